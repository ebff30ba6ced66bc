"""Every named set of roles, defined once: who may read, write or decide what.

Two kinds of enforcers read these sets. The GraphQL schema declares its types, fields and
mutations with them (``schema.permissions.access``/``allow``), and so do the HTTP routes
(``schema.permissions.ROUTE_ACCESS``). Services read them where a rule depends on the
reader: row scoping lets staff and auditors pass (``INTERNAL``), and the claims reason
renderer (``resolvers/claims/reasons.py``) withholds a reason parameter from every role
outside the set of the field the parameter comes from, so a risk score is hidden in
``Claim.riskScore`` and in every sentence that could quote it.

Sets hold role names (``Role`` is a ``StrEnum``, so ``principal.role in STAFF`` works).
A new set goes here with a comment saying who and why; ``tests/schema/test_layout.py``
fails on a role set defined anywhere else.

Example::

    @strawberry.type
    @access(CLAIM_READERS)
    class Claim: ...

    if principal.role in INTERNAL:
        return true()  # staff and auditors read every row
"""

from __future__ import annotations

from core.auth import Role

__all__ = [
    "ADJUSTERS",
    "ADVANCE_APPLICANTS",
    "ADVANCE_OFFICERS",
    "ADVANCE_READERS",
    "ANALYTICS_READERS",
    "ASSIGNERS",
    "AUDIT_READERS",
    "AUTHENTICATED",
    "BEHAVIOUR_EVENT_SENDERS",
    "CLAIM_ASSIGNERS",
    "CLAIM_READERS",
    "DATA_HOLDERS",
    "DOCUMENT_READERS",
    "DOCUMENT_UPLOADERS",
    "EXPERIMENT_MANAGERS",
    "EXPERIMENT_READERS",
    "FIRM_PERFORMANCE_READERS",
    "FIRM_QUALIFICATION_REVIEWERS",
    "FULL_PII",
    "INTERNAL",
    "INVESTIGATION_NOTE_READERS",
    "INVESTIGATION_READERS",
    "KNOWLEDGE_APPROVERS",
    "KNOWLEDGE_ASSISTED",
    "KNOWLEDGE_EDITORS",
    "KNOWLEDGE_READERS",
    "LEDGER_ERASERS",
    "LEDGER_OPERATORS",
    "LEDGER_READERS",
    "MANAGERS",
    "ONBOARDERS",
    "ORIGINAL_RECEIVERS",
    "PARTNERS",
    "PARTNER_READERS",
    "PARTNER_SELF_SERVICE",
    "PAYEE_ACCOUNT_READERS",
    "PAYEE_ACCOUNT_WRITERS",
    "PAYMENT_OPERATORS",
    "PAYMENT_READERS",
    "POLICY_READERS",
    "PROGRESS_READERS",
    "PROOF_READERS",
    "QA_REVIEWERS",
    "QUALIFICATION_SUBMITTERS",
    "REPORTERS",
    "REVIEWERS",
    "RISK_FLAG_READERS",
    "RISK_FLAG_STAFF",
    "RISK_PROFILE_READERS",
    "RISK_READERS",
    "RULE_MANAGERS",
    "SEGMENT_EXPORTERS",
    "SELF_SERVICE",
    "SERVICE_AGENTS",
    "SERVICE_READERS",
    "SERVICE_REQUESTERS",
    "SERVICE_SUPERVISORS",
    "SIGNED_RECORD_READERS",
    "STAFF",
    "TAG_EDITORS",
    "TAG_MANAGERS",
    "TAG_READERS",
    "VARIANT_FORCERS",
    "VISITOR_IDENTIFIERS",
]


def _names(*roles: Role) -> frozenset[str]:
    return frozenset(r.value for r in roles)


# --- who the callers are ---------------------------------------------------------------------

#: Every role: any authenticated caller.
AUTHENTICATED: frozenset[str] = _names(*Role)
#: Insurer staff (the names of ``core.auth.STAFF_ROLES``): not customers, partners or auditors.
STAFF: frozenset[str] = _names(Role.AGENT, Role.ADJUSTER, Role.QA, Role.ANALYST, Role.MANAGER, Role.ADMIN)
#: Staff and auditors: they read every row of every domain (row scoping lets them pass).
INTERNAL: frozenset[str] = STAFF | _names(Role.AUDITOR)
#: A partner institution's users (always scoped to their partner by row scoping).
PARTNERS: frozenset[str] = _names(Role.PARTNER)
#: Who configures the business: products, lapses, partner suspension and client credentials.
MANAGERS: frozenset[str] = _names(Role.MANAGER, Role.ADMIN)
#: Who registers customers and partners (front-office onboarding; a manager or admin may too).
ONBOARDERS: frozenset[str] = _names(Role.AGENT, Role.MANAGER, Role.ADMIN)

# --- policies --------------------------------------------------------------------------------

#: Who sees personal fields (name, ID number, phone, email, beneficiary) in full; a customer
#: sees only their own in full (``resolvers.policies.scoping.may_see_personal_fields``).
FULL_PII: frozenset[str] = _names(Role.AGENT, Role.ADJUSTER, Role.MANAGER, Role.ADMIN)
#: Readers of customers, policies, quotes and endorsements: staff, and a customer (own rows only).
POLICY_READERS: frozenset[str] = STAFF | _names(Role.CUSTOMER)
#: Who quotes, issues, renews, ends and endorses a policy: the customer themself or a front-office role.
SELF_SERVICE: frozenset[str] = _names(Role.CUSTOMER, Role.AGENT, Role.MANAGER, Role.ADMIN)

# --- claims ----------------------------------------------------------------------------------

#: Everyone who may read a claim they can see (row scoping narrows customers and partners).
CLAIM_READERS: frozenset[str] = STAFF | _names(Role.CUSTOMER, Role.PARTNER, Role.AUDITOR)
#: Risk scores, levels, hints, rule versions, SLA due times, event actors, duplicate links:
#: staff and auditors, never the customer or the hospital the claim is about.
RISK_READERS: frozenset[str] = INTERNAL
#: Who decides claims: adjudication, transitions, payments, document requests.
ADJUSTERS: frozenset[str] = _names(Role.ADJUSTER, Role.MANAGER, Role.ADMIN)
#: Who reports and submits claims: the customer, or staff on their behalf.
REPORTERS: frozenset[str] = _names(Role.CUSTOMER, Role.AGENT, Role.ADJUSTER, Role.MANAGER, Role.ADMIN)
#: Who enters structured invoice data once, as its holder: the customer app or the hospital.
DATA_HOLDERS: frozenset[str] = _names(Role.CUSTOMER, Role.PARTNER)
#: Who assigns claims of the work queue to any staff member (team leads); an adjuster only takes a
#: claim for themself or gives back their own (``resolvers.claims.assignment``).
CLAIM_ASSIGNERS: frozenset[str] = MANAGERS
#: Who reviews QA samples of decided claims and reads them (quality assurance, and the managers
#: who answer for claims quality); nobody reviews their own decisions.
QA_REVIEWERS: frozenset[str] = _names(Role.QA, Role.MANAGER, Role.ADMIN)
#: Who tracks the progress of the claims operation (where claims wait, SLAs): claims managers,
#: quality assurance and auditors.
PROGRESS_READERS: frozenset[str] = _names(Role.QA, Role.MANAGER, Role.ADMIN, Role.AUDITOR)
#: Who manages the claim-risk rule library: drafts, tests, publishes, pins and rolls back versions
#: (managers standing in for risk management, and admins); everyone in RISK_READERS reads it.
RULE_MANAGERS: frozenset[str] = MANAGERS
#: Who records that a document's paper original arrived by post (the back office).
ORIGINAL_RECEIVERS: frozenset[str] = _names(Role.ADJUSTER, Role.AGENT, Role.MANAGER, Role.ADMIN)
#: Who may add documents to a claim: its reporters and data holders (the customer, the hospital
#: that billed it); row scoping narrows a customer to own claims and a hospital to the claims it
#: direct-billed. Never a read-only role.
DOCUMENT_UPLOADERS: frozenset[str] = REPORTERS | DATA_HOLDERS
#: Who may read a document's content (medical data): the customer it is about (own claims)
#: and the roles that decide claims. Everyone else sees the document's metadata at most.
DOCUMENT_READERS: frozenset[str] = ADJUSTERS | _names(Role.CUSTOMER)

# --- partners --------------------------------------------------------------------------------

#: Readers of the partner registry, assignments and signed records: staff, auditors, and a
#: partner (its own rows only).
PARTNER_READERS: frozenset[str] = INTERNAL | PARTNERS
#: Readers of partners' signed records, also inside claim reasons (``SignedRecord.message``).
SIGNED_RECORD_READERS: frozenset[str] = PARTNER_READERS
#: Who adds a qualification document: the onboarders, and the partner itself (its own).
QUALIFICATION_SUBMITTERS: frozenset[str] = ONBOARDERS | PARTNERS
#: Who reviews a partner's qualification (never the one who submitted it: maker-checker).
REVIEWERS: frozenset[str] = _names(Role.QA, Role.MANAGER, Role.ADMIN)
#: Who manages a partner's signer keys and webhook endpoints: managers, and the partner itself.
PARTNER_SELF_SERVICE: frozenset[str] = MANAGERS | PARTNERS
#: Who assigns partners to cases (surveys, hospital bills): those who decide claims.
ASSIGNERS: frozenset[str] = ADJUSTERS
#: Staff who query shared risk flags by person: claims, analytics and quality assurance.
RISK_FLAG_STAFF: frozenset[str] = _names(Role.ADJUSTER, Role.ANALYST, Role.QA, Role.MANAGER, Role.ADMIN)
#: Who reads a customer's risk profile (claims history features, shared flags with proofs, hints):
#: adjusters and risk staff, the same people who look shared flags up by person.
RISK_PROFILE_READERS: frozenset[str] = RISK_FLAG_STAFF
#: Readers of shared risk flags and disclosures: risk staff and partner insurers.
RISK_FLAG_READERS: frozenset[str] = RISK_FLAG_STAFF | PARTNERS

# --- payments (the rail) ---------------------------------------------------------------------

#: Who runs the rail: re-instructs a returned payout, exports batches, reads returns, and sees
#: a payee's account number and holder in full (the bank file needs them; everyone else masked).
PAYMENT_OPERATORS: frozenset[str] = _names(Role.ADJUSTER, Role.MANAGER, Role.ADMIN)
#: Readers of payment instructions and batches: staff and auditors (money moved is audited).
PAYMENT_READERS: frozenset[str] = INTERNAL
#: Readers of payee accounts: staff and auditors, and the holder (a customer or partner: its own);
#: the number and holder name in full only for the holder and PAYMENT_OPERATORS.
PAYEE_ACCOUNT_READERS: frozenset[str] = INTERNAL | _names(Role.CUSTOMER, Role.PARTNER)
#: Who registers a payee's bank account: the customer or partner for itself, front office for them.
PAYEE_ACCOUNT_WRITERS: frozenset[str] = _names(Role.CUSTOMER, Role.PARTNER, Role.AGENT, Role.ADJUSTER,
                                               Role.MANAGER, Role.ADMIN)

# --- advances --------------------------------------------------------------------------------

#: Who applies for an advance against an expected claim: the customer in hospital, or an agent for them.
ADVANCE_APPLICANTS: frozenset[str] = _names(Role.CUSTOMER, Role.AGENT, Role.MANAGER, Role.ADMIN)
#: Readers of advances, their schedules and balances: staff, auditors, and the customer (own only).
ADVANCE_READERS: frozenset[str] = INTERNAL | _names(Role.CUSTOMER)
#: Who decides advances in manual review and records repayments: those who decide claims.
ADVANCE_OFFICERS: frozenset[str] = ADJUSTERS

# --- investigations --------------------------------------------------------------------------

#: Readers of investigations, their offers and trail: staff, auditors, and an assessor firm
#: (row scoping: only investigations offered to it).
INVESTIGATION_READERS: frozenset[str] = INTERNAL | PARTNERS
#: Free text of an investigation (instructions to the firm, investigators' notes, the review
#: note) may name people: the adjusters who decide the claim and the firm doing the work.
INVESTIGATION_NOTE_READERS: frozenset[str] = ADJUSTERS | PARTNERS
#: Who reads assessor firms' on-time, acceptance and review-outcome rates: claims managers,
#: quality assurance and the adjusters who assign work.
FIRM_PERFORMANCE_READERS: frozenset[str] = REVIEWERS | ADJUSTERS
#: Who sees assessor firms' qualification state (expiry, due reviews, their figures) and records a
#: review decision (renew, suspend) through the partner registry: claims managers and admins.
FIRM_QUALIFICATION_REVIEWERS: frozenset[str] = MANAGERS

# --- customer service: work orders, complaints ------------------------------------------------

#: Readers of work orders, their public comments and timeline: staff, auditors, and a customer
#: (row scoping: own orders only; internal comments and routing fields are staff-only).
SERVICE_READERS: frozenset[str] = INTERNAL | _names(Role.CUSTOMER)
#: Who works work orders and complaints: agents, and the team leads and managers above them.
SERVICE_AGENTS: frozenset[str] = _names(Role.AGENT, Role.MANAGER, Role.ADMIN)
#: Team leads and service managers (the MANAGER role): agent profiles and capacity, transfers
#: between teams, assignment to any agent, complaint escalations land with them.
SERVICE_SUPERVISORS: frozenset[str] = MANAGERS
#: Who opens work orders, files complaints, comments and acknowledges resolutions: the customer
#: (own orders, public comments only) and the service staff working for them.
SERVICE_REQUESTERS: frozenset[str] = SERVICE_AGENTS | _names(Role.CUSTOMER)

# --- ledger and audit ------------------------------------------------------------------------

#: Who reads anchoring status, batches, records and proofs: auditors and the managers who answer to them.
LEDGER_READERS: frozenset[str] = _names(Role.AUDITOR, Role.ADMIN, Role.MANAGER)
#: Who reads a proof bundle (``ProofBundle``: a commitment, its Merkle proof and anchoring, no body
#: and no person): everyone who reaches one through a field: ledger readers, and the readers of
#: signed records and risk flags (partners included, scoped by those fields' rows).
PROOF_READERS: frozenset[str] = LEDGER_READERS | SIGNED_RECORD_READERS | RISK_FLAG_READERS
#: Who erases a ledger record's body and salt (right to be forgotten).
LEDGER_ERASERS: frozenset[str] = _names(Role.ADMIN)
#: Who sees the anchoring worker's operational detail (a batch's last error: node and RPC
#: messages that may name endpoints): whoever runs the ledger node, not auditors or managers.
LEDGER_OPERATORS: frozenset[str] = _names(Role.ADMIN)
#: Who reads and verifies the hash-chained audit log.
AUDIT_READERS: frozenset[str] = _names(Role.AUDITOR, Role.ADMIN)

# --- operations: experiments on process flows -------------------------------------------------

#: Who reads experiments and their results: analysts and QA who study them, managers, admins,
#: and auditors (variants decide how customers are served).
EXPERIMENT_READERS: frozenset[str] = _names(Role.ANALYST, Role.QA, Role.MANAGER, Role.ADMIN, Role.AUDITOR)
#: Who creates, changes, starts, stops and kills experiments (the kill switch): operations managers and admins.
EXPERIMENT_MANAGERS: frozenset[str] = MANAGERS
#: Who forces a subject's variant for testing: QA, and the managers and admins who run experiments.
VARIANT_FORCERS: frozenset[str] = _names(Role.QA, Role.MANAGER, Role.ADMIN)
#: Who sends behaviour events through the API: a customer's frontend (about themself only) and
#: front-office staff apps (agents, managers, admins) about any customer or anonymous visitor.
BEHAVIOUR_EVENT_SENDERS: frozenset[str] = SELF_SERVICE
#: Who reads customer tags, tag history, classes, segments and campaigns: front-office agents who
#: contact customers, analysts, managers, admins and auditors.
TAG_READERS: frozenset[str] = _names(Role.AGENT, Role.ANALYST, Role.MANAGER, Role.ADMIN, Role.AUDITOR)
#: Who adds and removes manual tags on a customer (with a reason code): agents, managers and admins.
TAG_EDITORS: frozenset[str] = _names(Role.AGENT, Role.MANAGER, Role.ADMIN)
#: Who defines tags and their rules, classes, segments and campaigns, and rebuilds tags: operations managers and admins.
TAG_MANAGERS: frozenset[str] = MANAGERS
#: Who exports a segment's member list (customer ids): analysts, managers and admins.
SEGMENT_EXPORTERS: frozenset[str] = _names(Role.ANALYST, Role.MANAGER, Role.ADMIN)
#: Who binds an anonymous visitor to a customer (identify, alias): the customer themself (their own
#: id only) and the front-office staff apps that send behaviour events (agents, managers, admins).
VISITOR_IDENTIFIERS: frozenset[str] = BEHAVIOUR_EVENT_SENDERS

# --- knowledge and agent assist ----------------------------------------------------------------

#: Who reads served (approved) knowledge: searches it and asks coverage questions: staff, auditors,
#: and customers (coverage questions about their own products only; drafts never reach them).
KNOWLEDGE_READERS: frozenset[str] = INTERNAL | _names(Role.CUSTOMER)
#: Who writes articles (drafts, new versions of published ones) and submits them for review:
#: front-office agents who know the questions, QA, managers and admins.
KNOWLEDGE_EDITORS: frozenset[str] = _names(Role.AGENT, Role.QA, Role.MANAGER, Role.ADMIN)
#: Who approves (publishes), rejects and retires articles and maintains the coverage graph; never
#: a version they wrote or submitted themselves (four eyes).
KNOWLEDGE_APPROVERS: frozenset[str] = _names(Role.QA, Role.MANAGER, Role.ADMIN)
#: Who gets agent assist (top articles and suggested replies for a consultation's text): staff at a console.
KNOWLEDGE_ASSISTED: frozenset[str] = STAFF

# --- analytics -------------------------------------------------------------------------------

#: Readers of business metrics (KPI series by product, age band and region; no personal data):
#: analysts, and the managers and admins who run the business.
ANALYTICS_READERS: frozenset[str] = _names(Role.ANALYST, Role.MANAGER, Role.ADMIN)
