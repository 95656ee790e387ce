"""the SCS decision (issue 17): SCS evaluations become attestations (level, self or third-party,
register entry), new attestation kinds (技術情報管理認証, TISAX, ISO/IEC 27701, PCI DSS), an ISMS
scope covering the service, the SECURITY ACTION still-declared check, a person's raise of the
level asked with its history, and the level a contract requires

Revision ID: a17a00000001
Revises: a16a00000001
Create Date: 2026-12-07 02:00:00

"""
from alembic import op
import sqlalchemy as sa

import vendorrisk.models.base


# revision identifiers, used by Alembic.
revision = 'a17a00000001'
down_revision = 'a16a00000001'
branch_labels = None
depends_on = None

OLD_KINDS = ('security_action', 'isms', 'pmark', 'ismap', 'csms', 'soc2', 'cyber_insurance', 'other')
NEW_KINDS = (
    'security_action', 'isms', 'pmark', 'ismap', 'csms', 'soc2', 'cyber_insurance', 'scs',
    'tech_info_mgmt', 'tisax', 'iso27701', 'pci_dss', 'other',
)
LEVELS = "('star3', 'star4', 'star5')"


def _kinds(kinds):
    return "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"


def upgrade():
    op.create_table('required_level_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('previous', sa.String(length=10), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint(f"level IN {LEVELS}", name=op.f('ck_required_level_changes_level')),
    sa.CheckConstraint(f"previous IN {LEVELS}", name=op.f('ck_required_level_changes_previous')),
    sa.CheckConstraint("source IN ('rule', 'manual')", name=op.f('ck_required_level_changes_source')),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_required_level_changes_changed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_required_level_changes_supplier_id_suppliers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_required_level_changes'))
    )
    with op.batch_alter_table('required_level_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_required_level_changes_supplier_id'), ['supplier_id'], unique=False)

    with op.batch_alter_table('attestations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scs_level', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('evaluation', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('ledger_ref', sa.String(length=300), server_default='', nullable=False))
        batch_op.add_column(sa.Column('covers_service', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('confirmed_on', sa.Date(), nullable=True))
        batch_op.drop_constraint(op.f('ck_attestations_attestation_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_attestations_attestation_kind'), _kinds(NEW_KINDS))
        batch_op.create_check_constraint(
            op.f('ck_attestations_scs_level_only_for_scs'), "(kind = 'scs') = (scs_level IS NOT NULL)"
        )
        batch_op.create_check_constraint(
            op.f('ck_attestations_scs_level'), f"scs_level IS NULL OR scs_level IN {LEVELS}"
        )
        batch_op.create_check_constraint(
            op.f('ck_attestations_evaluation'), "evaluation IS NULL OR evaluation IN ('self', 'third_party')"
        )

    # Each supplier's SCS level becomes an SCS attestation: ★3 by self-assessment, ★4 and ★5 by
    # a third party (the scheme's rule), valid until the date the supplier row held.
    with op.batch_alter_table('attestation_proposals', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_attestation_proposals_proposal_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_attestation_proposals_proposal_kind'), _kinds(NEW_KINDS))

    op.execute(
        "INSERT INTO attestations (supplier_id, kind, scs_level, evaluation, expires_on, name, "
        "identifier, issuer, scope, notes, created_at, updated_at) "
        "SELECT id, 'scs', scs_level, CASE WHEN scs_level = 'star3' THEN 'self' "
        "ELSE 'third_party' END, scs_expires_on, '', '', '', '', '', CURRENT_TIMESTAMP, "
        "CURRENT_TIMESTAMP FROM suppliers WHERE scs_level IS NOT NULL"
    )

    # A pending SCS proposal (made when the level lived on the supplier) now changes that
    # supplier's SCS attestation.
    op.execute(
        "UPDATE attestation_proposals SET attestation_id = (SELECT MAX(a.id) FROM attestations a "
        "WHERE a.supplier_id = attestation_proposals.supplier_id AND a.kind = 'scs') "
        "WHERE kind = 'scs' AND attestation_id IS NULL"
    )

    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('required_scs_level', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('required_scs_by', sa.Date(), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_contracts_required_scs_level'), f"required_scs_level IS NULL OR required_scs_level IN {LEVELS}"
        )

    with op.batch_alter_table('suppliers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('required_level_raised', sa.String(length=10), nullable=True))
        batch_op.drop_constraint(op.f('ck_suppliers_scs_level'), type_='check')
        batch_op.drop_column('scs_expires_on')
        batch_op.drop_column('scs_level')
        batch_op.create_check_constraint(
            op.f('ck_suppliers_required_level_raised'),
            f"required_level_raised IS NULL OR required_level_raised IN {LEVELS}",
        )


def downgrade():
    with op.batch_alter_table('suppliers', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_suppliers_required_level_raised'), type_='check')
        batch_op.add_column(sa.Column('scs_level', sa.VARCHAR(length=10), nullable=True))
        batch_op.add_column(sa.Column('scs_expires_on', sa.DATE(), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_suppliers_scs_level'), f"scs_level IS NULL OR scs_level IN {LEVELS}"
        )
        batch_op.drop_column('required_level_raised')
    # The best SCS evaluation of each supplier goes back on its row; the new kinds are dropped.
    op.execute(
        "UPDATE suppliers SET scs_level = (SELECT MAX(a.scs_level) FROM attestations a "
        "WHERE a.supplier_id = suppliers.id AND a.kind = 'scs'), scs_expires_on = (SELECT "
        "MAX(a.expires_on) FROM attestations a WHERE a.supplier_id = suppliers.id AND a.kind = 'scs')"
    )
    # What pointed at the attestations of the new kinds goes with them (foreign keys are off
    # while SQLite migrates, so nothing cascades): SCS proposals go back to the supplier.
    gone = "SELECT id FROM attestations WHERE " + _kinds(set(NEW_KINDS) - set(OLD_KINDS))
    op.execute("UPDATE attestation_proposals SET attestation_id = NULL WHERE kind = 'scs'")
    op.execute(
        f"DELETE FROM attestation_proposals WHERE attestation_id IN ({gone}) OR "
        f"evidence_request_id IN (SELECT id FROM evidence_requests WHERE attestation_id IN ({gone}))"
    )
    op.execute(f"DELETE FROM evidence_requests WHERE attestation_id IN ({gone})")
    op.execute("DELETE FROM attestations WHERE " + _kinds(set(NEW_KINDS) - set(OLD_KINDS)))
    op.execute("DELETE FROM attestation_proposals WHERE " + _kinds(set(NEW_KINDS) - set(OLD_KINDS) - {'scs'}))
    with op.batch_alter_table('attestation_proposals', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_attestation_proposals_proposal_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_attestation_proposals_proposal_kind'), _kinds((*OLD_KINDS, 'scs')))

    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_contracts_required_scs_level'), type_='check')
        batch_op.drop_column('required_scs_by')
        batch_op.drop_column('required_scs_level')

    with op.batch_alter_table('attestations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_attestations_evaluation'), type_='check')
        batch_op.drop_constraint(op.f('ck_attestations_scs_level'), type_='check')
        batch_op.drop_constraint(op.f('ck_attestations_scs_level_only_for_scs'), type_='check')
        batch_op.drop_constraint(op.f('ck_attestations_attestation_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_attestations_attestation_kind'), _kinds(OLD_KINDS))
        batch_op.drop_column('confirmed_on')
        batch_op.drop_column('covers_service')
        batch_op.drop_column('ledger_ref')
        batch_op.drop_column('evaluation')
        batch_op.drop_column('scs_level')

    with op.batch_alter_table('required_level_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_required_level_changes_supplier_id'))

    op.drop_table('required_level_changes')
