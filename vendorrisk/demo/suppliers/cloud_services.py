"""The demo register's クラウドサービス (cloud services)."""

from __future__ import annotations

from typing import Any

from vendorrisk.demo.suppliers.records import (
    BSI,
    JQA,
    contract,
    ismap,
    isms,
    pmark,
    security_action,
    soc2,
)

SUPPLIERS: tuple[dict[str, Any], ...] = (
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
)
