"""Bilingual text: the templates, the answer types and the workbook hold Japanese and English."""

from __future__ import annotations

from dataclasses import dataclass

from vendorrisk.vocab import Locale


@dataclass(frozen=True)
class Text:
    ja: str
    en: str
    #: The languages in which this is our working translation (仮訳), not the guideline's own
    #: words: the UI, exports and report mark it so ("working_translation: [ja]" in YAML).
    working: tuple[str, ...] = ()

    def get(self, locale: str | None) -> str:
        return self.en if locale == Locale.en else self.ja

    def is_working_translation(self, locale: str | None) -> bool:
        return (Locale.en if locale == Locale.en else Locale.ja) in self.working


def bilingual(text: Text) -> str:
    """Both languages in one string (one of them when they are the same), as the workbook shows."""
    return text.ja if text.ja == text.en else f"{text.ja} / {text.en}"
