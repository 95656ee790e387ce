"""Evidence files: the answer is the uploaded files, uploaded in the portal only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l

from vendorrisk.catalog.text import Text, bilingual
from vendorrisk.catalog.types.base import AnswerError, AnswerType, register

if TYPE_CHECKING:
    from werkzeug.datastructures import MultiDict

    from vendorrisk.catalog.model import Question

#: What the workbook writes in a file question's answer cell.
NOTICE = Text(
    "証跡ファイルはポータルでアップロードしてください（Excelには添付できません）",
    "Upload evidence files in the portal (they cannot be attached in Excel)",
)


class File(AnswerType):
    name = "file"
    title = _l("File")
    hint = Text("証跡ファイル", "Evidence file")
    holds_files = True

    def clean(self, question: Question, raw: Any) -> list[int]:
        ids = [raw] if not isinstance(raw, list | tuple) else list(raw)
        try:
            return [int(i) for i in ids]
        except (TypeError, ValueError) as exc:
            raise AnswerError("file answers are stored file ids") from exc

    def from_form(self, form: MultiDict, name: str) -> None:
        return None  # the files come with the upload, not as a value

    def cell(self, question: Question, value: Any) -> str:
        return bilingual(NOTICE)


register(File())
