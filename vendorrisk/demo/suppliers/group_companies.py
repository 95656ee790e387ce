"""The demo register's 系列企業 (group companies)."""

from __future__ import annotations

from typing import Any

from vendorrisk.demo.suppliers.records import (
    BSI,
    HARUKAZE,
    contract,
    cyber_insurance,
    isms,
    pmark,
    security_action,
)

SUPPLIERS: tuple[dict[str, Any], ...] = (
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
        # It subcontracts none of our work: it answers so, and lists no subcontractor.
        "subcontractors": (),
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
)
