"""The demo register's ビジネスパートナー (business partners) and 海外の取引先 (abroad)."""

from __future__ import annotations

from typing import Any

from vendorrisk.demo.suppliers.records import (
    HARUKAZE,
    contract,
    cyber_insurance,
    isms,
    other,
    security_action,
)

SUPPLIERS: tuple[dict[str, Any], ...] = (
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
