"""Demo data: users and a realistic, fictional supplier register for trying the application out.

Every company, person and number here is made up; web sites and mail addresses use reserved
example domains. Dates are offsets in days from the `today` given to `load_demo`, so the register
always has some overdue re-checks, expired certificates and contracts ending soon.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from vendorrisk.extensions import db
from vendorrisk.models import (
    CONTRACT_CLAUSES,
    AttestationKind,
    Criticality,
    Role,
    SecurityActionLevel,
    Supplier,
    SupplierCategory,
    SupplierStatus,
    User,
)
from vendorrisk.services.register import suppliers as supplier_service
from vendorrisk.services.reporting import history as rollup_history
from vendorrisk.services.selfassessment import cycles as selfassessment
from vendorrisk.services.users import create_user
from vendorrisk.validation import corporate_number_check_digit

#: The demo users, admin first: (email, role, name, locale).
USERS = (
    ("admin@example.com", Role.admin, "山田 太郎", "ja"),
    ("ciso@example.com", Role.ciso, "佐藤 恵子", "ja"),
    ("procurement1@example.com", Role.procurement, "鈴木 健一", "ja"),
    ("procurement2@example.com", Role.procurement, "高橋 美咲", "ja"),
    ("reviewer@example.com", Role.reviewer, "田中 誠", "ja"),
    ("auditor@example.com", Role.auditor, "伊藤 直子", "ja"),
)

#: Short names for the supplier's sharing flags used in SUPPLIERS.
SHARING = {
    "personal": "shares_personal_info",
    "confidential": "shares_confidential_info",
    "network": "has_network_access",
    "admin": "has_admin_access",
}

#: Seed of the generator of the (valid, fictional) corporate numbers.
CORPORATE_NUMBER_SEED = 2017

#: Certification bodies and (fictional) insurers.
BSI = "BSIグループジャパン株式会社"
JQA = "一般財団法人日本品質保証機構"
JIPDEC = "一般財団法人日本情報経済社会推進協会"
ISMAP = "ISMAP運営委員会"
HARUKAZE = "はるかぜ損害保険株式会社"
MIZUNAMI = "みずなみ損害保険株式会社"

#: Every clause but the incident notification one, which follows from the notification hours.
_CLAUSES = tuple(c for c in CONTRACT_CLAUSES if c != "clause_incident_notification")


def _without(*missing: str) -> tuple[str, ...]:
    return tuple(c for c in _CLAUSES if c.removeprefix("clause_") not in missing)


#: Directive 9 clause sets of the demo contracts (incident notification comes from `hours`).
CLAUSE_SETS = {
    "full": _CLAUSES,
    "no_audit": _without("audit_rights"),
    "no_subcontracting": _without("subcontracting_approval"),
    "no_audit_subcontracting": _without("audit_rights", "subcontracting_approval"),
    "standard": _without("audit_rights", "subcontracting_approval", "cyber_insurance"),
    "cloud_terms": ("clause_security_requirements", "clause_data_return_deletion"),
    "nda": ("clause_data_return_deletion",),
    "trade": (),
}


# Builders of the nested records; date fields hold day offsets from today until loaded.


def contract(
    title: str,
    clauses: str,
    *,
    starts: int,
    ends: int | None = None,
    hours: int | None = None,
    notes: str = "",
) -> dict[str, Any]:
    fields = {c: c in CLAUSE_SETS[clauses] for c in _CLAUSES}
    return fields | {
        "title": title,
        "starts_on": starts,
        "ends_on": ends,
        "notes": notes,
        "clause_incident_notification": hours is not None,
        "incident_notification_hours": hours,
    }


def security_action(level: str, identifier: str, *, issued: int) -> dict[str, Any]:
    return {
        "kind": AttestationKind.security_action,
        "level": SecurityActionLevel(level),
        "identifier": identifier,
        "issued_on": issued,
        "expires_on": None,
    }


def isms(identifier: str, issuer: str, scope: str, *, expires: int) -> dict[str, Any]:
    """ISMS (ISO/IEC 27001): certificates run for three years."""
    return {
        "kind": AttestationKind.isms,
        "identifier": identifier,
        "issuer": issuer,
        "scope": scope,
        "issued_on": expires - 3 * 365,
        "expires_on": expires,
    }


def pmark(identifier: str, scope: str, *, expires: int) -> dict[str, Any]:
    """Privacy Mark: granted for two years."""
    return {
        "kind": AttestationKind.pmark,
        "identifier": identifier,
        "issuer": JIPDEC,
        "scope": scope,
        "issued_on": expires - 2 * 365,
        "expires_on": expires,
    }


def ismap(identifier: str, scope: str, *, issued: int, expires: int) -> dict[str, Any]:
    return {
        "kind": AttestationKind.ismap,
        "identifier": identifier,
        "issuer": ISMAP,
        "scope": scope,
        "issued_on": issued,
        "expires_on": expires,
    }


def soc2(identifier: str, issuer: str, scope: str, *, issued: int) -> dict[str, Any]:
    return {
        "kind": AttestationKind.soc2,
        "identifier": identifier,
        "issuer": issuer,
        "scope": scope,
        "issued_on": issued,
        "expires_on": None,
    }


def cyber_insurance(issuer: str, policy: str, limit_jpy: int, *, expires: int) -> dict[str, Any]:
    """Cyber insurance: one-year policies."""
    return {
        "kind": AttestationKind.cyber_insurance,
        "identifier": policy,
        "issuer": issuer,
        "coverage_limit_jpy": limit_jpy,
        "issued_on": expires - 365,
        "expires_on": expires,
    }


def other(name: str, identifier: str, issuer: str, scope: str, *, expires: int) -> dict[str, Any]:
    return {
        "kind": AttestationKind.other,
        "name": name,
        "identifier": identifier,
        "issuer": issuer,
        "scope": scope,
        "issued_on": expires - 3 * 365,
        "expires_on": expires,
    }


#: The register. Contacts are (name, mail local part, department, job title); the first is
#: the primary one. `review` is the next re-check in days from today; country defaults to JP.
SUPPLIERS: tuple[dict[str, Any], ...] = (
    # --- 系列企業 (group companies) ---
    {
        "slug": "minamo-systems",
        "name_ja": "株式会社ミナモシステムズ",
        "name_en": "Minamo Systems Co., Ltd.",
        "category": "group_company",
        "criticality": "critical",
        "review": -12,
        "services": "グループ基幹システム（販売・会計）の開発・運用保守、社内ネットワークの管理",
        "sharing": ("personal", "confidential", "network", "admin"),
        "notes": "グループ全体の情報システムを担う中核会社。特権IDは毎月棚卸しを実施。",
        "contacts": (
            ("中村 大輔", "d.nakamura", "情報セキュリティ推進室", "室長"),
            ("小林 由美", "y.kobayashi", "システム運用部", "課長"),
        ),
        "contracts": (contract("グループ会社間業務委託基本契約", "full", hours=24, starts=-1460),),
        "attestations": (
            isms("IS 604512", BSI, "グループ基幹システムの開発、運用及び保守", expires=410),
            cyber_insurance(HARUKAZE, "HK-CY-0061234", 300_000_000, expires=150),
        ),
    },
    {
        "slug": "minamo-logistics",
        "name_ja": "ミナモ物流株式会社",
        "name_en": "Minamo Logistics Co., Ltd.",
        "category": "group_company",
        "criticality": "high",
        "review": 45,
        "services": "製品の保管・配送業務、出荷データの連携（EDI）",
        "sharing": ("personal", "network"),
        "contacts": (("加藤 拓也", "t.kato", "物流管理部", "部長"),),
        "contracts": (
            contract("グループ会社間業務委託契約（物流）", "no_audit", hours=48, starts=-1100),
        ),
        "attestations": (security_action("star2", "40318275541", issued=-1500),),
    },
    {
        "slug": "minamo-business",
        "name_ja": "ミナモビジネスサービス株式会社",
        "name_en": "Minamo Business Services Co., Ltd.",
        "category": "group_company",
        "criticality": "high",
        "review": 120,
        "services": "グループ各社の給与計算・社会保険手続、経理事務のシェアードサービス",
        "sharing": ("personal", "confidential"),
        "contacts": (
            ("吉田 智子", "t.yoshida", "人事サービス部", "部長"),
            ("山口 翔", "s.yamaguchi", "経理サービス部", "主任"),
        ),
        "contracts": (
            contract(
                "グループ会社間業務委託契約（シェアードサービス）", "full", hours=24, starts=-1300
            ),
        ),
        "attestations": (pmark("第10824367(04)号", "給与計算・経理事務の受託", expires=240),),
    },
    {
        "slug": "minamo-engineering",
        "name_ja": "ミナモエンジニアリング株式会社",
        "name_en": "Minamo Engineering Co., Ltd.",
        "category": "group_company",
        "criticality": "medium",
        "review": -40,
        "services": "工場の生産設備の保守、制御システム（OT）のリモート点検",
        "sharing": ("confidential", "network"),
        "notes": "リモート保守用VPNの接続元を固定IPアドレスに限定済み。",
        "contacts": (("松本 健太", "k.matsumoto", "設備保守部", "課長"),),
        "contracts": (
            contract(
                "グループ会社間業務委託契約（設備保守）", "no_subcontracting", hours=72, starts=-800
            ),
        ),
        "attestations": (security_action("star1", "40552190637", issued=-900),),
    },
    # --- 委託先 (outsourcing contractors) ---
    {
        "slug": "kazamidori-techno",
        "name_ja": "株式会社かざみどりテクノサービス",
        "name_en": "Kazamidori Techno Service Co., Ltd.",
        "category": "outsourcing_contractor",
        "criticality": "critical",
        "review": 30,
        "services": "データセンターでのサーバー運用・24時間監視、バックアップ運用",
        "sharing": ("confidential", "network", "admin"),
        "contacts": (
            ("井上 浩二", "k.inoue", "運用サービス部", "部長"),
            ("木村 彩", "a.kimura", "品質管理部", "情報セキュリティ管理者"),
            ("林 大樹", "d.hayashi", "営業部", "担当"),
        ),
        "contracts": (
            contract(
                "システム運用保守業務委託契約",
                "full",
                hours=24,
                starts=-1000,
                ends=95,
                notes="更新時に報告期限を12時間へ短縮する案を協議中。",
            ),
            contract("秘密保持契約", "nda", starts=-1030),
        ),
        "attestations": (
            isms("IS 588204", JQA, "データセンターにおけるシステム運用サービス", expires=38),
            cyber_insurance(MIZUNAMI, "MZ-2081733", 500_000_000, expires=200),
        ),
    },
    {
        "slug": "shiosai-software",
        "name_ja": "潮騒ソフトウェア株式会社",
        "name_en": "Shiosai Software Co., Ltd.",
        "category": "outsourcing_contractor",
        "criticality": "high",
        "review": -5,
        "services": "自社ECサイトの開発・保守、会員データベースの改修",
        "sharing": ("personal", "confidential", "network"),
        "notes": "ISMS認証が期限切れのため更新状況を確認中。再委託先の一覧を提出依頼済み。",
        "contacts": (
            ("清水 亮", "r.shimizu", "開発本部", "プロジェクトマネージャー"),
            ("森 早紀", "s.mori", "管理部", "情報セキュリティ担当"),
        ),
        "contracts": (
            contract(
                "ソフトウェア開発業務委託契約", "no_subcontracting", hours=48, starts=-600, ends=130
            ),
        ),
        "attestations": (
            security_action("star2", "50000312847", issued=-200),
            isms("IS 571930", BSI, "ソフトウェアの受託開発及び保守", expires=-21),
        ),
    },
    {
        "slug": "koyomi-bpo",
        "name_ja": "株式会社こよみビジネスアウトソーシング",
        "name_en": "Koyomi Business Outsourcing Inc.",
        "category": "outsourcing_contractor",
        "criticality": "critical",
        "review": 60,
        "services": "給与計算・年末調整業務の受託（BPO）、給与明細のWeb配信",
        "sharing": ("personal", "confidential"),
        "contacts": (
            ("池田 真理", "m.ikeda", "BPOサービス部", "部長"),
            ("橋本 悠斗", "y.hashimoto", "情報セキュリティ室", "室長"),
        ),
        "contracts": (
            contract("給与計算業務委託契約", "full", hours=24, starts=-1200),
            contract("個人情報の取扱いに関する覚書", "standard", hours=24, starts=-1200),
        ),
        "attestations": (
            pmark("第20001562(07)号", "給与計算・年末調整業務の受託", expires=300),
            isms("IS 640077", JQA, "給与計算アウトソーシングサービス", expires=700),
            cyber_insurance(HARUKAZE, "HK-CY-0074410", 100_000_000, expires=90),
        ),
    },
    {
        "slug": "tsumugi-data",
        "name_ja": "株式会社つむぎデータ入力センター",
        "name_en": "Tsumugi Data Entry Center Co., Ltd.",
        "category": "outsourcing_contractor",
        "criticality": "medium",
        "review": -30,
        "services": "アンケート・申込書のデータ入力、紙書類のスキャン",
        "sharing": ("personal",),
        "contacts": (("阿部 久美子", "k.abe", "業務部", "課長"),),
        "contracts": (
            contract("データ入力業務委託契約", "no_audit_subcontracting", hours=72, starts=-500),
        ),
        "attestations": (
            security_action("star1", "40791135208", issued=-700),
            pmark("第21003391(02)号", "データ入力業務の受託", expires=-12),
        ),
    },
    {
        "slug": "hoshizora-contact",
        "name_ja": "ほしぞらコンタクトセンター株式会社",
        "name_en": "Hoshizora Contact Center Co., Ltd.",
        "category": "outsourcing_contractor",
        "criticality": "high",
        "review": 14,
        "services": "お客様相談窓口（コールセンター）業務、問い合わせ履歴のCRM入力",
        "sharing": ("personal", "network"),
        "contacts": (
            ("石川 奈々", "n.ishikawa", "センター運営部", "センター長"),
            ("前田 隆", "t.maeda", "システム部", "係長"),
        ),
        "contracts": (
            contract("コールセンター業務委託契約", "no_audit", hours=24, starts=-720, ends=370),
        ),
        "attestations": (
            pmark("第17002045(06)号", "コンタクトセンター業務", expires=52),
            cyber_insurance(MIZUNAMI, "MZ-2090518", 50_000_000, expires=-25),
        ),
    },
    {
        "slug": "ginga-express",
        "name_ja": "銀河エクスプレス運輸株式会社",
        "name_en": "Ginga Express Transport Co., Ltd.",
        "category": "outsourcing_contractor",
        "criticality": "medium",
        "review": 200,
        "services": "通販商品の配送、配送伝票の発行",
        "sharing": ("personal",),
        "contacts": (("藤田 剛", "t.fujita", "営業所", "所長"),),
        "contracts": (contract("物流業務委託契約", "standard", hours=72, starts=-1500),),
        "attestations": (security_action("star1", "40126678093", issued=-1800),),
    },
    {
        "slug": "akatsuki-secops",
        "name_ja": "株式会社あかつきセキュリティオペレーションズ",
        "name_en": "Akatsuki Security Operations Inc.",
        "category": "outsourcing_contractor",
        "criticality": "critical",
        "review": 75,
        "services": "セキュリティ監視（SOC）、EDRのアラート分析、インシデント初動対応の支援",
        "sharing": ("confidential", "network", "admin"),
        "contacts": (
            ("岡田 修", "o.okada", "SOCサービス部", "部長"),
            ("後藤 千尋", "c.goto", "カスタマーサクセス部", "担当"),
        ),
        "contracts": (
            contract("セキュリティ監視サービス契約", "full", hours=24, starts=-400, ends=330),
        ),
        "attestations": (
            isms("IS 655318", BSI, "セキュリティ監視サービス（SOC）の提供", expires=900),
            cyber_insurance(HARUKAZE, "HK-CY-0080255", 500_000_000, expires=280),
        ),
    },
    {
        "slug": "sazanami-print",
        "name_ja": "さざなみ印刷株式会社",
        "name_en": "Sazanami Printing Co., Ltd.",
        "category": "outsourcing_contractor",
        "criticality": "medium",
        "review": 100,
        "services": "ダイレクトメールの印刷・封入封緘・発送",
        "sharing": ("personal",),
        "notes": "繁忙期は封入作業を協力会社へ再委託。承認条項は次回の契約更新で追加予定。",
        "contacts": (
            ("長谷川 誠", "m.hasegawa", "営業部", "課長"),
            ("近藤 美穂", "m.kondo", "品質保証部", "主任"),
        ),
        "contracts": (
            contract("印刷・発送業務委託契約", "no_subcontracting", hours=48, starts=-950),
        ),
        "attestations": (
            security_action("star2", "50001187524", issued=-150),
            pmark("第10862714(05)号", "印刷及び発送業務", expires=410),
        ),
    },
    {
        "slug": "yamabiko-infra",
        "name_ja": "株式会社やまびこインフラサービス",
        "name_en": "Yamabiko Infra Service Co., Ltd.",
        "category": "outsourcing_contractor",
        "criticality": "high",
        "review": -60,
        "services": "拠点ネットワーク機器の保守、社内ヘルプデスク",
        "sharing": ("network", "admin"),
        "notes": "契約は満了済みだが業務は継続中。更新契約を調整中。",
        "contacts": (
            ("村上 直樹", "n.murakami", "技術部", "部長"),
            ("遠藤 葵", "a.endo", "サポートセンター", "リーダー"),
        ),
        "contracts": (
            contract("ネットワーク保守業務委託契約", "no_audit", hours=48, starts=-1130, ends=-35),
        ),
        "attestations": (
            security_action("star2", "40987320114", issued=-1000),
            cyber_insurance(MIZUNAMI, "MZ-2076621", 30_000_000, expires=-50),
        ),
    },
    {
        "slug": "midori-document",
        "name_ja": "株式会社みどり文書管理",
        "name_en": "Midori Document Management Co., Ltd.",
        "category": "outsourcing_contractor",
        "criticality": "low",
        "status": "offboarded",
        "review": None,
        "services": "機密文書の保管・溶解処理（委託終了）",
        "sharing": ("confidential",),
        "notes": "委託終了時に保管文書の返却と溶解証明書の受領を完了。",
        "contacts": (("青木 正人", "m.aoki", "業務部", "課長"),),
        "contracts": (contract("文書保管業務委託契約", "standard", starts=-2000, ends=-400),),
        "attestations": (security_action("star1", "40433019826", issued=-2100),),
    },
    {
        "slug": "hidamari-building",
        "name_ja": "株式会社ひだまりビルメンテナンス",
        "name_en": "Hidamari Building Maintenance Co., Ltd.",
        "category": "other",
        "criticality": "low",
        "review": 365,
        "services": "本社ビルの清掃・設備管理",
        "sharing": (),
        "notes": "執務エリアへの入館は就業時間外のみ。入館カードは個人別に発行。",
        "contracts": (contract("建物管理業務委託契約", "trade", starts=-2500),),
    },
    # --- クラウドサービス (cloud services) ---
    {
        "slug": "brightpine-crm",
        "country": "US",
        "domain": "brightpine-crm.example.com",
        "name_ja": "ブライトパインCRM社",
        "name_en": "Brightpine CRM, Inc.",
        "category": "cloud_service",
        "criticality": "high",
        "review": 40,
        "services": "営業支援・顧客管理（CRM）SaaS。データは米国リージョンに保管",
        "sharing": ("personal", "confidential"),
        "notes": "個人データの越境移転について本人同意の取得範囲を法務部と確認済み。",
        "contacts": (
            ("Emily Carter", "emily.carter", "Customer Success", "Customer Success Manager"),
            ("Michael Brooks", "michael.brooks", "Trust & Security", "Security Compliance Lead"),
        ),
        "contracts": (
            contract(
                "クラウドサービス利用規約（Master Subscription Agreement）",
                "cloud_terms",
                hours=72,
                starts=-830,
            ),
        ),
        "attestations": (
            soc2(
                "SOC 2 Type 2",
                "Alder & Finch LLP",
                "Security, Availability and Confidentiality",
                issued=-120,
            ),
        ),
    },
    {
        "slug": "soraumi-cloud",
        "name_ja": "株式会社そらうみクラウド",
        "name_en": "Soraumi Cloud Corporation",
        "category": "cloud_service",
        "criticality": "critical",
        "review": 150,
        "services": "IaaS（国内リージョンの仮想サーバー・ストレージ）、バックアップの保管先",
        "sharing": ("personal", "confidential"),
        "contacts": (
            ("西村 悟", "s.nishimura", "エンタープライズ営業部", "アカウントマネージャー"),
        ),
        "contracts": (contract("クラウドサービス利用規約", "cloud_terms", hours=24, starts=-1400),),
        "attestations": (
            ismap(
                "C21-0047-1",
                "IaaS（仮想サーバー、ブロックストレージ、オブジェクトストレージ）",
                issued=-400,
                expires=330,
            ),
            isms("IS 602281", BSI, "IaaSの提供及び運用（ISO/IEC 27017を含む）", expires=520),
        ),
    },
    {
        "slug": "hakobune-storage",
        "name_ja": "株式会社はこぶねストレージ",
        "name_en": "Hakobune Storage K.K.",
        "category": "cloud_service",
        "criticality": "high",
        "review": -18,
        "services": "オンラインストレージ（社外とのファイル共有）SaaS",
        "sharing": ("personal", "confidential"),
        "contacts": (
            ("原田 恵", "m.harada", "カスタマーサポート部", "担当"),
            ("中島 光", "h.nakajima", "セキュリティ統括室", "室長"),
        ),
        "contracts": (contract("クラウドサービス利用規約", "cloud_terms", hours=48, starts=-700),),
        "attestations": (
            ismap("C22-0105-1", "オンラインストレージサービス", issued=-300, expires=420),
            isms("IS 633472", JQA, "オンラインストレージサービスの開発及び運用", expires=250),
        ),
    },
    {
        "slug": "timeleaf",
        "name_ja": "株式会社タイムリーフ",
        "name_en": "Timeleaf Inc.",
        "category": "cloud_service",
        "criticality": "medium",
        "review": 210,
        "services": "勤怠管理SaaS",
        "sharing": ("personal",),
        "contacts": (("小川 和也", "k.ogawa", "カスタマーサクセス部", "マネージャー"),),
        "contracts": (
            contract("クラウドサービス利用規約", "cloud_terms", hours=72, starts=-1000),
            contract("個人情報の取扱いに関する覚書", "standard", hours=72, starts=-1000),
        ),
        "attestations": (
            isms("IS 619843", BSI, "勤怠管理クラウドサービスの開発及び運用", expires=610),
            pmark("第11820476(03)号", "勤怠管理サービスの提供", expires=180),
        ),
    },
    {
        "slug": "shirushi-cloud",
        "name_ja": "株式会社しるしクラウド",
        "name_en": "Shirushi Cloud Inc.",
        "category": "cloud_service",
        "criticality": "medium",
        "review": 95,
        "services": "電子契約サービス（契約書の締結・保管）",
        "sharing": ("confidential",),
        "contacts": (("岡本 沙織", "s.okamoto", "営業部", "担当"),),
        "contracts": (contract("クラウドサービス利用規約", "cloud_terms", starts=-450),),
        "attestations": (
            isms("IS 662950", JQA, "電子契約サービスの開発、提供及び運用", expires=17),
        ),
    },
    {
        "slug": "kotodute-mail",
        "name_ja": "株式会社ことづてメール",
        "name_en": "Kotodute Mail Inc.",
        "category": "cloud_service",
        "criticality": "medium",
        "status": "onboarding",
        "review": 10,
        "services": "メールマガジン配信SaaS（導入検討中）",
        "sharing": ("personal",),
        "contacts": (
            ("松田 陽子", "y.matsuda", "営業部", "課長"),
            ("中川 駿", "s.nakagawa", "開発部", "エンジニア"),
        ),
        "contracts": (contract("秘密保持契約", "nda", starts=-20),),
        "attestations": (
            security_action("star2", "50002469913", issued=-60),
            pmark("第10871203(01)号", "メール配信サービスの提供", expires=600),
        ),
    },
    {
        "slug": "larkspur-metrics",
        "country": "US",
        "domain": "larkspur-metrics.example.com",
        "name_ja": "ラークスパー・メトリクス社",
        "name_en": "Larkspur Metrics, Inc.",
        "category": "cloud_service",
        "criticality": "low",
        "status": "onboarding",
        "review": 25,
        "services": "Webサイトのアクセス解析SaaS（試験導入中）",
        "sharing": (),
        "notes": "SOC 2 報告書の提出を依頼中。",
    },
    {
        "slug": "tsubame-chat",
        "name_ja": "株式会社つばめチャット",
        "name_en": "Tsubame Chat Inc.",
        "category": "cloud_service",
        "criticality": "medium",
        "status": "offboarded",
        "review": None,
        "services": "社内チャットSaaS（他サービスへ移行済み）",
        "sharing": ("confidential",),
        "notes": "利用終了時にデータ削除証明書を受領済み。",
        "contacts": (("野口 拓海", "t.noguchi", "営業部", "担当"),),
        "contracts": (
            contract("クラウドサービス利用規約", "cloud_terms", hours=72, starts=-1600, ends=-180),
        ),
        "attestations": (
            isms("IS 580391", BSI, "ビジネスチャットサービスの開発及び運用", expires=-90),
        ),
    },
    # --- ビジネスパートナー (business partners) ---
    {
        "slug": "hanamizuki-trading",
        "name_ja": "花水木商事株式会社",
        "name_en": "Hanamizuki Trading Co., Ltd.",
        "category": "business_partner",
        "criticality": "medium",
        "review": 160,
        "services": "原材料の調達代行、販売代理",
        "sharing": ("confidential",),
        "contacts": (
            ("坂本 浩", "h.sakamoto", "営業第一部", "部長"),
            ("福田 麻衣", "m.fukuda", "営業第一部", "担当"),
        ),
        "contracts": (
            contract("取引基本契約", "trade", starts=-3000),
            contract("秘密保持契約", "nda", starts=-3000),
        ),
        "attestations": (security_action("star1", "40260458871", issued=-1200),),
    },
    {
        "slug": "seiryu-precision",
        "name_ja": "清流精密工業株式会社",
        "name_en": "Seiryu Precision Industries Co., Ltd.",
        "category": "business_partner",
        "criticality": "high",
        "review": -25,
        "services": "精密部品の製造（OEM）、図面データの受領とEDIによる受発注",
        "sharing": ("confidential", "network"),
        "contacts": (
            ("太田 勝", "m.ota", "生産管理部", "部長"),
            ("三浦 優子", "y.miura", "情報システム課", "課長"),
            ("藤井 亮介", "r.fujii", "品質保証部", "主任"),
        ),
        "contracts": (
            contract("取引基本契約", "trade", starts=-2600),
            contract("情報セキュリティに関する覚書", "no_audit", hours=48, starts=-380),
        ),
        "attestations": (
            security_action("star2", "40674402395", issued=-1100),
            cyber_insurance(HARUKAZE, "HK-CY-0059982", 50_000_000, expires=-70),
        ),
    },
    {
        "slug": "yunagi-design",
        "name_ja": "株式会社ゆうなぎデザイン工房",
        "name_en": "Yunagi Design Studio Co., Ltd.",
        "category": "business_partner",
        "criticality": "low",
        "review": 240,
        "services": "コーポレートサイトの制作・更新、広告デザイン",
        "sharing": ("admin",),
        "notes": "コーポレートサイトのCMS管理者権限を付与。多要素認証の設定を確認済み。",
        "contacts": (("上田 真一", "s.ueda", "制作部", "ディレクター"),),
        "contracts": (
            contract("Webサイト制作・保守業務委託契約", "standard", starts=-700, ends=30),
        ),
        "attestations": (security_action("star1", "50003318406", issued=-90),),
    },
    {
        "slug": "kiriko-consulting",
        "name_ja": "切子コンサルティング合同会社",
        "name_en": "Kiriko Consulting LLC",
        "category": "business_partner",
        "criticality": "low",
        "review": 330,
        "services": "業務改善・DX推進のコンサルティング",
        "sharing": ("confidential",),
        "contracts": (contract("秘密保持契約", "nda", starts=-200, ends=165),),
    },
    {
        "slug": "tanabata-sales",
        "name_ja": "株式会社たなばた販売",
        "name_en": "Tanabata Sales Co., Ltd.",
        "category": "business_partner",
        "criticality": "medium",
        "status": "onboarding",
        "review": 7,
        "services": "地方拠点での販売代理（顧客情報の共有を予定）",
        "sharing": ("personal",),
        "contacts": (("菊地 亜紀", "a.kikuchi", "営業部", "部長"),),
        "contracts": (contract("秘密保持契約", "nda", starts=-10),),
        "attestations": (security_action("star1", "50004120397", issued=-30),),
    },
    # --- 海外の取引先 (foreign partners) ---
    {
        "slug": "saola-bridge",
        "country": "VN",
        "domain": "saola-bridge.example.net",
        "name_ja": "サオラブリッジ・テクノロジー社",
        "name_en": "Saola Bridge Technology Co., Ltd.",
        "category": "outsourcing_contractor",
        "criticality": "high",
        "review": 55,
        "services": "オフショア開発（業務アプリケーションの開発・テスト）",
        "sharing": ("confidential", "network"),
        "notes": "ハノイの開発拠点から閉域VPNで検証環境に接続。再委託の承認条項は未整備。",
        "contacts": (
            ("Nguyen Van An", "an.nguyen", "Offshore Delivery", "Delivery Manager"),
            ("Tran Thi Mai", "mai.tran", "Quality Assurance", "QA Lead"),
        ),
        "contracts": (
            contract(
                "オフショア開発業務委託契約", "no_subcontracting", hours=48, starts=-540, ends=190
            ),
        ),
        "attestations": (
            isms(
                "VN-ISMS-0457",
                "Red River Certification JSC",
                "Software development and testing services (Hanoi)",
                expires=460,
            ),
        ),
    },
    {
        "slug": "falkenau-components",
        "country": "DE",
        "domain": "falkenau-components.example.com",
        "name_ja": "ファルケナウ・プレシジョン・コンポーネンツ社",
        "name_en": "Falkenau Precision Components GmbH",
        "category": "business_partner",
        "criticality": "medium",
        "review": 270,
        "services": "産業機器向けセンサー部品の供給、図面データの共有",
        "sharing": ("confidential",),
        "contacts": (
            ("Katrin Hoffmann", "k.hoffmann", "Key Account Management", "Key Account Manager"),
            ("Jonas Becker", "j.becker", "Information Security", "Information Security Officer"),
        ),
        "contracts": (
            contract("取引基本契約（英文）", "trade", starts=-1800),
            contract("秘密保持契約（英文）", "nda", starts=-1800),
        ),
        "attestations": (
            other(
                "TISAX",
                "AX7K3Q-1",
                "ENX Association",
                "Information with high protection needs (AL2)",
                expires=540,
            ),
        ),
    },
)


def load_demo(today: date) -> list[tuple[str, str, str]]:
    """Create the demo users and supplier register; return (email, role, one-time password)."""
    users, logins = _create_users()
    owners = [u for u in users if u.role == Role.procurement] + [users[0]]
    numbers = _corporate_numbers()
    for index, spec in enumerate(SUPPLIERS):
        supplier = supplier_service.create_supplier(
            _supplier_fields(spec, today, owners[index % len(owners)], numbers)
        )
        _add_details(supplier, spec, today, reference=f"VR-{index + 1:03d}")
    _profiles_and_reviews(users, today)
    _findings(users, today)
    rollup_history.seed_history(today)
    selfassessment.seed_demo(users, today)
    return logins


OUTAGES = ("hours", "days", "weeks", "months")
REPLACEABILITY = ("easy", "moderate", "hard")


def _profiles_and_reviews(users: list[User], today: date) -> None:
    """Give every supplier a risk profile and a tier, and a questionnaire history to some:
    completed reviews with scores, and a few submitted ones waiting for a reviewer."""
    from vendorrisk.catalog import catalog
    from vendorrisk.models import Answer, Assessment, AssessmentStatus, Decision, Supplier
    from vendorrisk.services.review import review

    rng = random.Random(CORPORATE_NUMBER_SEED + 1)  # noqa: S311 - demo data, not a secret
    reviewer = next(u for u in users if u.role == Role.reviewer)
    template = catalog().get("csm-v2-supplier")
    suppliers = db.session.scalars(sa.select(Supplier).order_by(Supplier.id)).all()
    now = datetime.now(UTC)
    for index, supplier in enumerate(suppliers):
        critical = supplier.criticality.value in ("high", "critical")
        supplier.max_outage = OUTAGES[rng.randrange(2) if critical else rng.randrange(1, 4)]
        supplier.replaceability = REPLACEABILITY[rng.randrange(3)]
        if index % 4 == 1:  # some already hold a METI SCS evaluation (★3, or ★4 for the critical)
            supplier.scs_level = "star4" if critical else "star3"
            supplier.scs_expires_on = today + timedelta(days=200 + 10 * index)
        review.apply_tier_rules(supplier, review.tier_rules(), now)
        if template is None or not supplier.contacts or index % 3 == 2:
            continue
        assessment = Assessment(
            supplier=supplier,
            template_id=template.id,
            template_version=template.version,
            due_on=today - timedelta(days=20),
            status=AssessmentStatus.submitted,
            sent_at=now - timedelta(days=50),
            submitted_at=now - timedelta(days=25),
            created_by=supplier.owner,
        )
        db.session.add(assessment)
        for question in template.questions:
            value = _demo_answer(question, rng)
            if value is not None:
                assessment.answers.append(Answer(question_id=question.id, value=value))
        db.session.flush()
        if index % 3 == 0:
            decision = (
                Decision.approved if rng.random() < 0.6 else Decision.approved_with_conditions
            )
            review.complete(
                assessment,
                template,
                decision,
                "" if decision == Decision.approved else "指摘事項の是正を条件とする",
                reviewer,
                now - timedelta(days=rng.randrange(5, 15)),
            )


#: (status, days since raised, days to the due date) of the demo findings, in turn.
FINDING_STATES = (
    ("open", 12, 48),
    ("in_progress", 40, 20),
    ("open", 100, -10),
    ("resolved", 70, 20),
    ("risk_accepted", 60, 30),
    ("in_progress", 20, 70),
    ("open", 5, 85),
)


def _findings(users: list[User], today: date) -> None:
    """Findings the reviewer raised from the completed reviews' suggestions, in every state."""
    from vendorrisk.catalog import catalog
    from vendorrisk.models import Assessment, AssessmentStatus, FindingStatus
    from vendorrisk.services.review import review

    ciso = next(u for u in users if u.role == Role.ciso)
    reviewer = next(u for u in users if u.role == Role.reviewer)
    completed = db.session.scalars(
        sa.select(Assessment)
        .where(Assessment.status == AssessmentStatus.completed)
        .order_by(Assessment.id)
    ).all()
    now, turn = datetime.now(UTC), 0
    for assessment in completed:
        template = catalog().get(assessment.template_id, assessment.template_version)
        result = review.current_score(assessment, template)
        for suggestion in review.suggested_findings(assessment, template, result)[:3]:
            state, age, due = FINDING_STATES[turn % len(FINDING_STATES)]
            turn += 1
            question = template.question(suggestion.question_id)
            finding = review.raise_finding(
                assessment.supplier,
                {
                    "question_id": question.id,
                    "title": question.text.ja[:300],
                    "severity": suggestion.severity,
                    "required_action": "対策の実施計画と完了予定日を提出してください。",
                    "due_on": today + timedelta(days=due),
                    "owner_id": reviewer.id,
                    "created_at": now - timedelta(days=age),
                },
                assessment,
            )
            if state == "risk_accepted":
                review.accept_risk(
                    finding, ciso, "代替統制（監視強化）により残留リスクを許容する。",
                    today + timedelta(days=due), today,
                )  # fmt: skip
            elif state != "open":
                review.move_finding(finding, FindingStatus(state), now)


def _demo_answer(question, rng: random.Random):
    if question.evidence:
        return "na"
    if question.type == "yes_partial_no":
        return rng.choices(("yes", "partial", "no", "na"), weights=(70, 18, 8, 4))[0]
    if question.type == "yes_no":
        return rng.choices(("yes", "no"), weights=(85, 15))[0]
    if question.type == "single_choice":
        return rng.choice(question.choices).value
    if question.type == "multi_choice":
        return [question.choices[0].value]
    return {"text": "情報システム部", "number": "120", "date": "2027-03-31"}.get(question.type)


def _create_users() -> tuple[list[User], list[tuple[str, str, str]]]:
    users, logins = [], []
    for email, role, name, locale in USERS:
        user, password = create_user(email, role, name=name, locale=locale)
        users.append(user)
        logins.append((user.email, role.value, password))
    return users, logins


def _corporate_numbers() -> Iterator[str]:
    """Valid, unique, fictional 法人番号: a check digit before twelve seeded random digits."""
    rng = random.Random(CORPORATE_NUMBER_SEED)  # noqa: S311 - demo data, not a secret
    seen: set[str] = set()
    while True:
        base = f"{rng.randrange(10**12):012d}"
        if base not in seen:
            seen.add(base)
            yield f"{corporate_number_check_digit(base)}{base}"


def _domain(spec: dict[str, Any]) -> str:
    return spec.get("domain") or f"{spec['slug']}.example.jp"


def _supplier_fields(
    spec: dict[str, Any], today: date, owner: User, numbers: Iterator[str]
) -> dict[str, Any]:
    country = spec.get("country", "JP")
    fields = {
        "name_ja": spec["name_ja"],
        "name_en": spec["name_en"],
        "country": country,
        "corporate_number": next(numbers) if country == "JP" else None,
        "category": SupplierCategory(spec["category"]),
        "status": SupplierStatus(spec.get("status", "active")),
        "criticality": Criticality(spec["criticality"]),
        "owner_id": owner.id,
        "services": spec["services"],
        "website": f"https://www.{_domain(spec)}/",
        "notes": spec.get("notes", ""),
        "next_review_on": _day(today, spec["review"]),
    }
    return fields | {flag: key in spec["sharing"] for key, flag in SHARING.items()}


def _add_details(supplier: Supplier, spec: dict[str, Any], today: date, reference: str) -> None:
    locale = "ja" if spec.get("country", "JP") == "JP" else "en"
    for position, (name, local, department, job_title) in enumerate(spec.get("contacts", ())):
        supplier_service.add_contact(
            supplier,
            {
                "name": name,
                "email": f"{local}@{_domain(spec)}",
                "department": department,
                "job_title": job_title,
                "locale": locale,
                "is_primary": position == 0,
            },
        )
    for number, fields in enumerate(spec.get("contracts", ()), start=1):
        fields = _dated(fields, today) | {"reference": f"{reference}-{number:02d}"}
        supplier_service.add_contract(supplier, fields)
    for fields in spec.get("attestations", ()):
        supplier_service.add_attestation(supplier, _dated(fields, today))


#: The fields of the nested records that hold day offsets from today.
_DATE_FIELDS = ("starts_on", "ends_on", "issued_on", "expires_on")


def _dated(fields: dict[str, Any], today: date) -> dict[str, Any]:
    """A copy of a record with its day offsets turned into dates."""
    return fields | {k: _day(today, fields[k]) for k in _DATE_FIELDS if k in fields}


def _day(today: date, offset: int | None) -> date | None:
    return None if offset is None else today + timedelta(days=offset)
