"""Source of sample_docs/questions.jsonl (built by tools/make_samples.py).

Each context is written with ordinary spacing; make_samples.py finds it in the loader's extracted
text whatever the line breaks there, and stores the exact extracted span. `kind` is for review
only and is not written to the JSONL:
  fact      - one fact in one sentence or paragraph
  paraphrase- the question avoids the document's wording
  exact     - hinges on an identifier (error code, version, token prefix)
  boundary  - the supporting context crosses a paragraph, list, table, heading or page boundary
"""

GUIDE = "lanternfish_product_guide.md"
PRICING = "pricing_and_plans.pdf"
NOTES = "release_notes.html"
SLA = "support_and_sla_policy.txt"
FAQ = "faq.md"
SECURITY = "security_and_data_handling.docx"
ADMIN = "admin_onboarding.txt"
API = "api_overview.md"

QUESTIONS: list[dict] = [
    # ---------------------------------------------------------------- product guide
    {
        "kind": "fact",
        "question": "How long do I have to type in the code that lfx login shows me?",
        "answers": ["10 minutes"],
        "source": GUIDE,
        "context": "The device code is valid for 10 minutes.",
    },
    {
        "kind": "paraphrase",
        "question": "We renamed a workspace. Will the senders still hitting the old webhook address break right away?",
        "answers": ["30 days after a rename", "HTTP 410"],
        "source": GUIDE,
        "context": "A workspace name is part of its URL, so renaming a workspace changes its webhook "
                   "addresses as well. Old addresses keep working for 30 days after a rename and then "
                   "return HTTP 410.",
    },
    {
        "kind": "paraphrase",
        "question": "How far back can I roll a flow to an earlier deployment?",
        "answers": ["last 50 versions", "50 versions"],
        "source": GUIDE,
        "context": "Lanternfish keeps the last 50 versions of every flow, and any of them can be "
                   "restored from the flow's History tab in one click.",
    },
    {
        "kind": "fact",
        "question": "What does a 61-second step cost in run-minutes on a large hosted runner?",
        "answers": ["costs 8"],
        "source": GUIDE,
        "context": "A 61-second step on a small hosted runner therefore costs 2 run-minutes, and the "
                   "same step on a large runner costs 8.",
    },
    {
        "kind": "paraphrase",
        "question": "If a step keeps failing, how many times in total will Lanternfish attempt it before giving up?",
        "answers": ["three attempts", "retried twice"],
        "source": GUIDE,
        "context": "By default a failed step is retried twice, so it gets three attempts in total.",
    },
    {
        "kind": "boundary",
        "question": "Does a step that hits its time limit get retried, and how long may a step run when I set no limit?",
        "answers": ["retry_on_timeout", "30 minutes"],
        "source": GUIDE,
        "context": "Retries apply to failures only; a step that is cancelled or times out is never "
                   "retried unless `retry_on_timeout: true` is set.\n\nEvery step has a timeout. If you "
                   "do not set one, a step is stopped after 30 minutes and fails with LF-5031.",
    },
    {
        "kind": "exact",
        "question": "lfx deploy fails with LF-1009. What is wrong?",
        "answers": ["LF-1009"],
        "source": GUIDE,
        "context": "| LF-1009 | The flow has more steps than the plan allows | Split it into subflows or "
                   "upgrade the plan |",
    },
    {
        "kind": "fact",
        "question": "How long are artifacts kept on the Pelagic plan?",
        "answers": ["30 days on Pelagic"],
        "source": GUIDE,
        "context": "Artifacts are kept for 14 days after the run ends on the Minnow and Reef plans and "
                   "for 30 days on Pelagic; Abyssal customers can set their own retention.",
    },
    {
        "kind": "paraphrase",
        "question": "What happens to a nightly job scheduled at 02:30 local time on the night the clocks spring forward?",
        "answers": ["first valid minute after the gap"],
        "source": GUIDE,
        "context": "When clocks go forward, a run whose time falls in the skipped hour starts once, at "
                   "the first valid minute after the gap.",
    },
    {
        "kind": "boundary",
        "question": "Can we use GPU runners on the Reef plan, and how fast do they burn run-minutes?",
        "answers": ["Pelagic and Abyssal plans only", "10x"],
        "source": GUIDE,
        "context": "| gpu-t4 | 8 | 32 GB + 1 GPU | 10x |\n\nThe xlarge size arrived in version 5.3. The "
                   "GPU size is available on the Pelagic and Abyssal plans only.",
    },
    {
        "kind": "boundary",
        "question": "How long is a runner registration token good for, and what command uses it on the machine?",
        "answers": ["valid for one hour", "lantern-agent register"],
        "source": GUIDE,
        "context": "A registration token is valid for one hour and can register any number of agents "
                   "during that hour.\n3. On the machine, run `lantern-agent register --token <token> "
                   "--labels linux,db-access`.",
    },
    {
        "kind": "exact",
        "question": "Steps on our own server fail with LF-5002. After how much silence does Lanternfish consider an agent gone?",
        "answers": ["90 seconds"],
        "source": GUIDE,
        "context": "If Lanternfish hears nothing from an agent for 90 seconds, the agent is marked as "
                   "lost and any step running on it fails with LF-5002; the step is then retried on "
                   "another matching agent if retries remain.",
    },
    {
        "kind": "paraphrase",
        "question": "A workspace-level secret and a flow-level secret have the same name. Which value does the flow get?",
        "answers": ["flow-scoped secret wins"],
        "source": GUIDE,
        "context": "Secrets can be scoped to a whole workspace or to a single flow; a flow-scoped secret "
                   "wins over a workspace secret with the same name.",
    },
    {
        "kind": "fact",
        "question": "Is there a maximum size for a single step's log?",
        "answers": ["50 MB"],
        "source": GUIDE,
        "context": "If logs look truncated, remember that a single step's log is capped at 50 MB; "
                   "anything beyond that is dropped and a note is added at the end of the log.",
    },
    # ---------------------------------------------------------------- pricing (PDF)
    {
        "kind": "fact",
        "question": "What does Reef cost per user if we pay month to month instead of yearly?",
        "answers": ["$17 per user per month"],
        "source": PRICING,
        "context": "It costs $14 per user per month when billed annually, or $17 per user per month "
                   "with monthly billing.",
    },
    {
        "kind": "fact",
        "question": "What do we pay for each run-minute over our allowance on Pelagic?",
        "answers": ["$0.006"],
        "source": PRICING,
        "context": "When an organization uses more than its included run-minutes, each extra "
                   "run-minute costs $0.008 on Reef and $0.006 on Pelagic.",
    },
    {
        "kind": "fact",
        "question": "How much is a run-minute pack and how long can it be used?",
        "answers": ["$125", "12 months"],
        "source": PRICING,
        "context": "A pack of 25,000 run-minutes costs $125 and can be used for 12 months from the "
                   "date of purchase.",
    },
    {
        "kind": "boundary",
        "question": "How many people can we add during a trial, and how many run-minutes does the trial include?",
        "answers": ["25 users", "5,000 run-minutes"],
        "source": PRICING,
        "context": "A trial organization can have up Lanternfish Pricing and Plans - page 2 of 3 to 25 "
                   "users and receives 5,000 run-minutes for the whole trial, not the full Pelagic "
                   "allowance.",
    },
    {
        "kind": "boundary",
        "question": "Is there a worked example of adding up run-minutes for a run that mixes a small, a medium and a self-hosted runner?",
        "answers": ["1 + 8 + 3 = 12", "12 run-minutes"],
        "source": PRICING,
        "context": "Example: a run with three steps - 40 seconds on a small runner, 3 minutes 10 "
                   "seconds on a medium runner Lanternfish Pricing and Plans - page 1 of 3 and 12 "
                   "minutes on a self-hosted runner - uses 1 + 8 + 3 = 12 run-minutes.",
    },
    {
        "kind": "paraphrase",
        "question": "If we drop a few licences halfway through our annual term, do we stop paying for them?",
        "answers": ["stay billed until the next renewal"],
        "source": PRICING,
        "context": "Seats removed during a term stay billed until the next renewal.",
    },
    {
        "kind": "fact",
        "question": "Can we pay by bank transfer instead of card?",
        "answers": ["$5,000 or more"],
        "source": PRICING,
        "context": "Payment by invoice (bank transfer, due within 30 days) is available for annual "
                   "subscriptions of $5,000 or more; all other subscriptions are paid by card.",
    },
    {
        "kind": "paraphrase",
        "question": "Is there a price reduction for charities?",
        "answers": ["40% off"],
        "source": PRICING,
        "context": "Nonprofits: registered charities get 40% off Reef and Pelagic.",
    },
    {
        "kind": "fact",
        "question": "Do dedicated runners count against our run-minute allowance?",
        "answers": ["does not use run-minutes"],
        "source": PRICING,
        "context": "Time on dedicated runners does not use run-minutes.",
    },
    {
        "kind": "paraphrase",
        "question": "Our card keeps getting declined. When does the account get downgraded?",
        "answers": ["21 days after the due date"],
        "source": PRICING,
        "context": "An organization whose invoice is still unpaid 21 days after the due date is moved "
                   "to the Minnow plan, and anything beyond the Minnow limits becomes read-only.",
    },
    {
        "kind": "fact",
        "question": "How many workspaces can an organization on the Pelagic plan create?",
        "answers": ["20"],
        "source": PRICING,
        "context": "Workspaces 1 3 20 unlimited",
    },
    # ---------------------------------------------------------------- release notes (HTML)
    {
        "kind": "boundary",
        "question": "Which release added steps that only run when a condition is true, and when did it ship?",
        "answers": ["5.3.0", "14 May 2025"],
        "source": NOTES,
        "context": "Lanternfish 5.3.0 - 14 May 2025 Added Conditional steps: a step with a when "
                   "expression is skipped when the expression evaluates to false.",
    },
    {
        "kind": "boundary",
        "question": "In which version did approvals start supporting two approvers?",
        "answers": ["5.1.0", "9 January 2025"],
        "source": NOTES,
        "context": "Lanternfish 5.1.0 - 9 January 2025 Added Approval steps can require two different "
                   "people to approve before the run continues.",
    },
    {
        "kind": "exact",
        "question": "What was security advisory LFSA-2025-003 about?",
        "answers": ["two consecutive log lines"],
        "source": NOTES,
        "context": "When a secret value was printed across two consecutive log lines, neither part was "
                   "masked, so a partial secret could appear in stored logs.",
    },
    {
        "kind": "exact",
        "question": "Which lantern-agent version do self-hosted runners need for the LFSA-2025-003 fix?",
        "answers": ["3.2.4"],
        "source": NOTES,
        "context": "Self-hosted runners must be upgraded to lantern-agent 3.2.4 or later to receive the "
                   "fix, because masking of live log streams happens on the agent.",
    },
    {
        "kind": "exact",
        "question": "When does support end for the 3.0.x agent line?",
        "answers": ["31 August 2025"],
        "source": NOTES,
        "context": "3.0.x November 2024 5.0 31 August 2025",
    },
    {
        "kind": "paraphrase",
        "question": "After the 5.0 upgrade, which firewall port must be open for our on-prem agents?",
        "answers": ["port 443"],
        "source": NOTES,
        "context": "Check firewall rules: agents now connect to port 443 of runners.lanternfish.example "
                   "instead of port 8443.",
    },
    {
        "kind": "fact",
        "question": "What should I use instead of the deprecated lfx run --wait flag?",
        "answers": ["lfx run --follow"],
        "source": NOTES,
        "context": "The flag lfx run --wait is deprecated in favour of lfx run --follow, which also "
                   "streams logs.",
    },
    {
        "kind": "fact",
        "question": "How long was Tidewatch in public preview before general availability?",
        "answers": ["eight months"],
        "source": NOTES,
        "context": "Tidewatch dashboards are now generally available, after eight months in public "
                   "preview.",
    },
    # ---------------------------------------------------------------- support and SLA (text)
    {
        "kind": "paraphrase",
        "question": "We're on Pelagic and production is completely down. How quickly will someone from support get back to us?",
        "answers": ["1 hour, 24 hours a day"],
        "source": SLA,
        "context": "Priority support (Pelagic):\n  Severity 1: 1 hour, 24 hours a day, 7 days a week",
    },
    {
        "kind": "boundary",
        "question": "What first response time can a Reef customer expect for a normal-severity ticket?",
        "answers": ["2 business days"],
        "source": SLA,
        "context": "Standard support (Reef):\n  Severity 1: 4 business hours\n  Severity 2: 8 business "
                   "hours\n  Severity 3: 2 business days",
    },
    {
        "kind": "boundary",
        "question": "What credit do we get on Abyssal if availability comes in at 99.7% for the month?",
        "answers": ["25% credit"],
        "source": SLA,
        "context": "Abyssal plan:\n  below 99.95% but at least 99.9%  -> 10% credit\n  below 99.9% "
                   "but at least 99.5%   -> 25% credit",
    },
    {
        "kind": "paraphrase",
        "question": "What counts as the service being down for the uptime calculation?",
        "answers": ["more than 5% of requests", "more than 10 minutes late"],
        "source": SLA,
        "context": "A minute counts as downtime when the Lanternfish API or web app returns server "
                   "errors for more than 5% of requests, or when scheduled runs in the affected region "
                   "start more than 10 minutes late.",
    },
    {
        "kind": "fact",
        "question": "When does scheduled maintenance happen?",
        "answers": ["Sundays between 02:00 and 06:00 UTC"],
        "source": SLA,
        "context": "Scheduled maintenance takes place on Sundays between 02:00 and 06:00 UTC.",
    },
    {
        "kind": "fact",
        "question": "By when do we have to ask for an SLA credit?",
        "answers": ["within 30 days after the end of the month"],
        "source": SLA,
        "context": "To receive a credit, an Owner must open a ticket with the subject \"SLA credit "
                   "request\" within 30 days after the end of the month in which the downtime happened.",
    },
    {
        "kind": "paraphrase",
        "question": "Our ticket has gone unanswered past its target. How do we push it up the chain?",
        "answers": ["ESCALATE"],
        "source": SLA,
        "context": "If a ticket has not received a first response within its target, or the customer "
                   "is unhappy with progress, the customer can reply to the ticket with the single "
                   "word ESCALATE.",
    },
    {
        "kind": "fact",
        "question": "Does the Reef plan come with an uptime guarantee?",
        "answers": ["no availability commitment"],
        "source": SLA,
        "context": "Minnow and Reef have no availability commitment, although they run on the same "
                   "infrastructure.",
    },
    {
        "kind": "fact",
        "question": "Does emergency maintenance count against the availability commitment?",
        "answers": ["counts as downtime"],
        "source": SLA,
        "context": "Emergency maintenance counts as downtime for the availability calculation.",
    },
    # ---------------------------------------------------------------- FAQ
    {
        "kind": "boundary",
        "question": "Do colleagues who only need to read dashboards use up one of our paid licences?",
        "answers": ["do not take up a paid seat"],
        "source": FAQ,
        "context": "### Do people who only look at dashboards need a paid seat?\n\nNo. Users with the "
                   "Viewer role do not take up a paid seat on the Reef and Pelagic plans.",
    },
    {
        "kind": "boundary",
        "question": "Can I move my workspace from us-west to eu-central on my own?",
        "answers": ["Not by yourself"],
        "source": FAQ,
        "context": "### Can I move an existing workspace to a different region?\n\nNot by yourself. The "
                   "region is fixed when the workspace is created.",
    },
    {
        "kind": "boundary",
        "question": "What plan are we on once the free trial expires?",
        "answers": ["free Minnow plan"],
        "source": FAQ,
        "context": "### What happens when my trial runs out?\n\nThe organization moves to the free "
                   "Minnow plan automatically.",
    },
    {
        "kind": "paraphrase",
        "question": "How much of our allowance does an hour of work on our own hardware consume?",
        "answers": ["15 run-minutes"],
        "source": FAQ,
        "context": "Minutes spent on self-hosted agents count as one quarter of a minute each, so one "
                   "hour of work on your own hardware uses 15 run-minutes of your allowance.",
    },
    {
        "kind": "paraphrase",
        "question": "I lost the phone with my authenticator app. How do I sign in?",
        "answers": ["ten single-use recovery codes", "recovery codes"],
        "source": FAQ,
        "context": "Use one of the ten single-use recovery codes you were shown when you turned on "
                   "two-factor authentication.",
    },
    {
        "kind": "fact",
        "question": "Which command downloads everything in a workspace?",
        "answers": ["lfx export"],
        "source": FAQ,
        "context": "Run `lfx export --workspace <name>` to download a single archive with every flow "
                   "version, secret name (never secret values), run metadata and log still held.",
    },
    {
        "kind": "fact",
        "question": "Which Lanternfish release opened the Sydney region?",
        "answers": ["Lanternfish 5.0"],
        "source": FAQ,
        "context": "The Sydney region opened with Lanternfish 5.0.",
    },
    # ---------------------------------------------------------------- security (DOCX)
    {
        "kind": "fact",
        "question": "What algorithm encrypts customer data at rest?",
        "answers": ["AES-256-GCM"],
        "source": SECURITY,
        "context": "All customer data is encrypted at rest with AES-256-GCM.",
    },
    {
        "kind": "fact",
        "question": "How often are the Vault's workspace encryption keys rotated?",
        "answers": ["every 90 days"],
        "source": SECURITY,
        "context": "Workspace data keys are rotated automatically every 90 days.",
    },
    {
        "kind": "paraphrase",
        "question": "After we close our account, how long until every copy of our data, backups included, is gone?",
        "answers": ["65 days"],
        "source": SECURITY,
        "context": "Copies in backups disappear as the backups age out, which takes at most another 35 "
                   "days, so all customer data is gone no later than 65 days after cancellation.",
    },
    {
        "kind": "paraphrase",
        "question": "If a region fails, how much data could we lose and how long until service is back?",
        "answers": ["6 hours", "4 hours"],
        "source": SECURITY,
        "context": "Our recovery point objective is 6 hours and our recovery time objective is 4 hours: "
                   "after a disaster affecting a region, we aim to restore service within four hours, "
                   "losing at most the last six hours of changes.",
    },
    {
        "kind": "boundary",
        "question": "Why does Orrery Labs promise breach notification within 48 hours rather than 72?",
        "answers": ["72-hour deadline", "48 hours"],
        "source": SECURITY,
        "context": "The notice describes what happened, which data was involved and what we are doing "
                   "about it.\n\nBecause customers are usually the data controllers, this 48-hour "
                   "commitment is designed to leave them time to meet their own 72-hour deadline for "
                   "notifying regulators under the GDPR.",
    },
    {
        "kind": "paraphrase",
        "question": "Is our data used to train AI models?",
        "answers": ["train machine-learning models"],
        "source": SECURITY,
        "context": "Orrery Labs does not sell customer data and does not use customer logs, flow "
                   "definitions or artifacts to train machine-learning models.",
    },
    {
        "kind": "paraphrase",
        "question": "Our workspaces are in Frankfurt. Where are our billing records kept?",
        "answers": ["us-west region"],
        "source": SECURITY,
        "context": "Account and billing records for the organization are held in the us-west region.",
    },
    {
        "kind": "fact",
        "question": "Who performs Lanternfish's penetration tests, and how often?",
        "answers": ["Halberd & Finch", "twice a year"],
        "source": SECURITY,
        "context": "External penetration tests are carried out twice a year by Halberd & Finch "
                   "Security, an independent testing firm, and after every major release.",
    },
    {
        "kind": "fact",
        "question": "With bring-your-own-key, how quickly does our data become unreadable if we revoke the key?",
        "answers": ["within 15 minutes", "15 minutes"],
        "source": SECURITY,
        "context": "With customer-managed keys, the master key for the organization's workspaces lives "
                   "in the customer's AWS KMS or Azure Key Vault account, and revoking Lanternfish's "
                   "access to that key makes the stored data unreadable within 15 minutes.",
    },
    # ---------------------------------------------------------------- admin onboarding (text)
    {
        "kind": "paraphrase",
        "question": "Which role fits someone who should rerun failed flows and sign off approvals but never edit flows?",
        "answers": ["Operator"],
        "source": ADMIN,
        "context": "Operator    Start, cancel and re-run flows, and answer approval steps. Cannot edit "
                   "flows.",
    },
    {
        "kind": "boundary",
        "question": "Once SSO is enforced, is there still any way to sign in with a password?",
        "answers": ["break-glass account"],
        "source": ADMIN,
        "context": "6. Switch the enforcement setting from \"Optional\" to \"Required\" only after at "
                   "least one Owner has signed in through single sign-on successfully.\n\nWhen single "
                   "sign-on is required, password sign-in is switched off for everyone except one "
                   "break-glass account: an Owner account that keeps password and two-factor sign-in "
                   "so that you can still get in if the identity provider is down.",
    },
    {
        "kind": "boundary",
        "question": "Does turning on mandatory two-factor authentication affect people who log in through our identity provider?",
        "answers": ["no effect"],
        "source": ADMIN,
        "context": "Text-message codes are not supported.\n\nThis setting has no effect on people who "
                   "sign in through single sign-on; their identity provider is responsible for the "
                   "second factor.",
    },
    {
        "kind": "paraphrase",
        "question": "If we deprovision someone in our identity provider, how soon are they locked out of Lanternfish?",
        "answers": ["within 5 minutes"],
        "source": ADMIN,
        "context": "With SCIM, a person removed from the identity provider loses access to Lanternfish "
                   "within 5 minutes.",
    },
    {
        "kind": "fact",
        "question": "How long is an invitation to join the organization valid?",
        "answers": ["expire after 7 days", "7 days"],
        "source": ADMIN,
        "context": "Invitations expire after 7 days, and an Admin can resend an expired invitation with "
                   "one click.",
    },
    {
        "kind": "paraphrase",
        "question": "When an employee leaves and is removed, who ends up owning the flows they built?",
        "answers": ["default owner"],
        "source": ADMIN,
        "context": "Flows they created stay where they are; ownership of those flows passes to the "
                   "workspace's default owner, which you can choose in Workspace settings.",
    },
    # ---------------------------------------------------------------- API overview
    {
        "kind": "exact",
        "question": "What kind of token starts with lfs_?",
        "answers": ["Service tokens start with `lfs_`", "Service tokens"],
        "source": API,
        "context": "Service tokens start with `lfs_`.",
    },
    {
        "kind": "fact",
        "question": "What is the longest lifetime I can give a personal access token?",
        "answers": ["365 days"],
        "source": API,
        "context": "A new personal access token expires after 90 days unless you choose a different "
                   "lifetime; the longest lifetime allowed is 365 days.",
    },
    {
        "kind": "exact",
        "question": "What will /v1/ endpoints return after API v1 is shut down, and on what date?",
        "answers": ["HTTP 410 Gone", "30 September 2025"],
        "source": API,
        "context": "Version 1 was deprecated in Lanternfish 5.2 and will be switched off on 30 "
                   "September 2025; from that date every call to a `/v1/` path answers with HTTP 410 "
                   "Gone.",
    },
    {
        "kind": "exact",
        "question": "I'm getting LF-4290 from the API. How long should my client wait before retrying?",
        "answers": ["Retry-After"],
        "source": API,
        "context": "A request over the limit receives HTTP 429 with error code LF-4290 and a "
                   "`Retry-After` header. Clients should wait at least that many seconds and add some "
                   "random jitter before trying again.",
    },
    {
        "kind": "paraphrase",
        "question": "How do I make sure a retried POST doesn't start the same run twice?",
        "answers": ["Idempotency-Key"],
        "source": API,
        "context": "Send an `Idempotency-Key` header (any unique string up to 255 characters, a UUID "
                   "works well) with POST requests, and Lanternfish will return the stored result of "
                   "the first request instead of performing the action again if the same key arrives "
                   "a second time.",
    },
    {
        "kind": "boundary",
        "question": "How quickly must our webhook receiver respond, and how old a delivery should it refuse?",
        "answers": ["within 10 seconds", "more than 5 minutes old"],
        "source": API,
        "context": "Receivers should recompute the signature, compare it in constant time, and reject "
                   "deliveries whose timestamp is more than 5 minutes old to prevent replays.\n\nYour "
                   "endpoint should answer with any 2xx status within 10 seconds.",
    },
    {
        "kind": "fact",
        "question": "What is the maximum page size on list endpoints?",
        "answers": ["100 at most"],
        "source": API,
        "context": "Use `page_size` to choose how many items a page holds (25 by default, 100 at most).",
    },
]
