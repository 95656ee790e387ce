"""METI's SCS evaluation scheme (サプライチェーン強化に向けたセキュリティ対策評価制度) as the
questionnaires use it: the ★3 requirement areas a standard pack's questions evidence, the packs
themselves, and the proof a supplier may already hold instead of answering again.

The areas are our grouping of the published ★3 categories (NIST CSF 2.0's six functions plus
supplier management; ../shared/reference/supply-chain-schemes.md §2). IPA's own requirement
numbers are not in our references: when they are, a question's `mapping.scs` names them instead.
"""

from __future__ import annotations

from vendorrisk.catalog.text import Text

#: ★3 requirement areas by code, in the order reports list them.
SCS_AREAS: dict[str, Text] = {
    "GV-1": Text("基本方針と責任者", "Policy, roles and management"),
    "GV-2": Text("規程・法令・契約上の要求事項", "Rules, laws and contractual requirements"),
    "GV-3": Text("従業員の教育と秘密保持誓約", "Staff training and confidentiality pledges"),
    "SC-1": Text(
        "取引先・委託先（再委託先を含む）の管理",
        "Managing suppliers and contractors (subcontractors included)",
    ),
    "ID-1": Text("IT資産・情報資産の把握", "Inventory of IT and information assets"),
    "ID-2": Text("リスクと脆弱性情報の把握", "Risks and vulnerability information"),
    "PR-1": Text(
        "アカウント管理（付与・削除・特権ID）", "Accounts (granting, removal, privileged IDs)"
    ),
    "PR-2": Text("認証（パスワード・多要素認証）", "Authentication (passwords, multi-factor)"),
    "PR-3": Text(
        "OS・ソフトウェアの更新（脆弱性対策）", "Updating OS and software (vulnerabilities)"
    ),
    "PR-4": Text("マルウェア対策（ウイルス対策・EDR）", "Malware protection (antivirus, EDR)"),
    "PR-5": Text(
        "ネットワークの防御（境界・VPN・リモートアクセス機器）",
        "Network defence (perimeter, VPN, remote-access devices)",
    ),
    "PR-6": Text(
        "データの保護（暗号化・持ち出し・媒体の廃棄）",
        "Data protection (encryption, removal, disposal of media)",
    ),
    "PR-7": Text("バックアップ", "Backups"),
    "PR-8": Text("物理的な対策", "Physical security"),
    "DE-1": Text("ログの取得・保存・監視", "Logging and monitoring"),
    "RS-1": Text("インシデント対応と報告", "Incident response and reporting"),
    "RC-1": Text("復旧と事業継続", "Recovery and business continuity"),
}

#: The supplier packs, smallest first: what a template's `pack:` may say (a template that says
#: nothing is a full pack).
PACKS = ("lite", "standard", "full")
PACK_LABELS: dict[str, Text] = {
    "lite": Text("簡易版", "Lite"),
    "standard": Text("標準版", "Standard"),
    "full": Text("詳細版", "Full"),
}

#: What a supplier may already hold that answers a question (`covered_by:`), by kind.
COVER_KINDS: dict[str, Text] = {
    "isms": Text(
        "ISMS認証（ISO/IEC 27001、適用範囲に当社向けサービスを含むもの）",
        "ISMS certificate (ISO/IEC 27001) whose scope covers the service to us",
    ),
    "scs": Text(
        "サプライチェーン強化に向けたセキュリティ対策評価制度の評価結果（★3以上）",
        "METI SCS evaluation result (★3 or higher)",
    ),
    "jama": Text(
        "自工会／部工会・サイバーセキュリティガイドラインのチェックシート",
        "JAMA/JAPIA Cybersecurity Guidelines check sheet",
    ),
}
