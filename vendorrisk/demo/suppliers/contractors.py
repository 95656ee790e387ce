"""The demo register's 委託先 (outsourcing contractors)."""

from __future__ import annotations

from typing import Any

from vendorrisk.demo.suppliers.records import (
    BSI,
    HARUKAZE,
    JQA,
    MIZUNAMI,
    contract,
    cyber_insurance,
    isms,
    pmark,
    security_action,
)

SUPPLIERS: tuple[dict[str, Any], ...] = (
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
        # Its answers, waiting for review, list a supplier we already use and an offshore one:
        # the review page shows what completing will record (a match and a new record).
        "subcontractors": (
            {
                "name": "株式会社やまびこインフラサービス",
                "country": "JP",
                "work": "データセンター内ネットワーク機器の保守",
                "our_data": "confidential",
                "approved": -300,
            },
            {
                "name": "Hanoi Night Ops JSC",
                "country": "VN",
                "work": "夜間監視の一次対応（オフショア）",
                "our_data": "confidential",
                "approved": None,
            },
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
        # Its answers list these 再委託先 (sup-x-15); the review records them under it.
        # `approved` is our approval of the subcontracting, in days from today (None: not yet).
        "subcontractors": (
            {
                "name": "株式会社ふみづき印刷",
                "corporate_number": "1804126357902",
                "country": "JP",
                "work": "給与明細の印刷・封入・発送",
                "our_data": "personal",
                "approved": -420,
            },
            {
                "name": "Pasig Payroll Services Inc.",
                "country": "PH",
                "work": "給与計算データの入力・照合（オフショア）",
                "our_data": "personal",
                "approved": None,
            },
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
)
