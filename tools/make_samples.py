"""Build the binary sample documents and the question set of RAG Explorer's bundled samples.

The bundled knowledge base describes "Lanternfish", a fictional workflow-automation service by a
fictional company, Orrery Labs. Markdown, HTML and plain-text documents live in `sample_docs/` as
they are; the PDF (pricing) and the DOCX (security) are generated here from the text below, so the
binaries can always be rebuilt and reviewed as source. The generated files are committed: the app
never runs this script.

The question set is written in `tools/sample_questions.py` with each gold passage in readable
form. Extraction from PDF changes line breaks, so every passage is located in the text the app's
own loader extracts (whitespace-insensitively) and written to `questions.jsonl` exactly as it
appears there. The script fails if a passage cannot be found, is ambiguous, or contains none of
its answers.

Run from the repository root:  python tools/make_samples.py
"""
from __future__ import annotations

import io
import json
import re
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_docs"
PDF_NAME = "pricing_and_plans.pdf"
DOCX_NAME = "security_and_data_handling.docx"
QUESTIONS_NAME = "questions.jsonl"

# --------------------------------------------------------------------------------------------
# Pricing and plans (PDF). Blocks: ("title"|"subtitle"|"h1"|"p"|"bullets"|"table", content).
# Core PDF fonts only know Latin-1, so this text is plain ASCII: straight quotes, "-" dashes.
# --------------------------------------------------------------------------------------------

PRICING: list[tuple[str, object]] = [
    ("title", "Lanternfish Pricing and Plans"),
    ("subtitle", "Price list PL-2025.2, effective 1 April 2025. All prices are in US dollars and "
                 "exclude taxes. Lanternfish and Orrery Labs are fictional; this is sample content."),
    ("h1", "1. The four plans"),
    ("p", "Lanternfish is sold in four plans. Every plan includes the same workflow engine, the "
          "Vault and hosted runners; the plans differ in how much you can run, how long we keep "
          "your history, and which administration and support features you get."),
    ("p", "Minnow is the free plan for individuals and small experiments. It has no time limit and "
          "needs no payment details, but an organization on Minnow can have at most 3 users."),
    ("p", "Reef is the plan for teams. It costs $14 per user per month when billed annually, or "
          "$17 per user per month with monthly billing. A Reef organization can have up to 75 users."),
    ("p", "Pelagic is for companies running production workloads. It costs $39 per user per month "
          "billed annually, or $46 per user per month billed monthly, with no upper limit on users. "
          "Pelagic adds SAML single sign-on, the audit log, IP allowlists, the GPU runner size and "
          "a 99.9% monthly availability commitment."),
    ("p", "Abyssal is the enterprise plan, sold on annual contracts with a minimum of 50 seats. Its "
          "price is agreed with our sales team and depends on seats and run-minute volume. Abyssal "
          "adds SCIM provisioning, customer-managed encryption keys, assisted region migration, a "
          "named technical account manager and a 99.95% availability commitment."),
    ("h1", "2. Limits by plan"),
    ("table", [
        ["Limit", "Minnow", "Reef", "Pelagic", "Abyssal"],
        ["Users", "3", "up to 75", "unlimited", "50 or more"],
        ["Workspaces", "1", "3", "20", "unlimited"],
        ["Included run-minutes / month", "500", "10,000", "60,000", "from 250,000"],
        ["Concurrent runs per workspace", "2", "10", "40", "200"],
        ["Steps per flow", "25", "100", "200", "200"],
        ["Longest step timeout", "15 minutes", "2 hours", "12 hours", "24 hours"],
        ["Run history kept", "7 days", "30 days", "90 days", "400 days"],
        ["API requests per minute", "60", "300", "1,200", "3,000"],
        ["Webhook body size", "1 MB", "5 MB", "5 MB", "5 MB"],
        ["Shortest schedule interval", "15 minutes", "1 minute", "1 minute", "1 minute"],
        ["Support level", "Community", "Standard", "Priority", "Premier"],
    ]),
    ("p", "Included run-minutes are pooled across all workspaces of an organization and reset on the "
          "first day of each billing month. Unused run-minutes do not roll over to the next month."),
    ("p", "Concurrency limits apply to each workspace separately. A run that would exceed the limit "
          "is not rejected; it waits in the queue with status LF-2003 until a slot is free. On the "
          "Abyssal plan the limit of 200 concurrent runs can be raised on request."),
    ("h1", "3. How run-minutes are counted"),
    ("p", "Each step is measured on its own and its duration is rounded up to the next whole minute. "
          "The result is multiplied by the size multiplier of the runner: small 1x, medium 2x, "
          "large 4x, xlarge 8x and gpu-t4 10x. Time on self-hosted runners counts at 0.25x, so four "
          "minutes on your own machine cost one run-minute. Time spent waiting in approval and wait "
          "steps costs nothing."),
    ("p", "Example: a run with three steps - 40 seconds on a small runner, 3 minutes 10 seconds on a "
          "medium runner and 12 minutes on a self-hosted runner - uses 1 + 8 + 3 = 12 run-minutes."),
    ("h1", "4. Overage and run-minute packs"),
    ("p", "When an organization uses more than its included run-minutes, each extra run-minute costs "
          "$0.008 on Reef and $0.006 on Pelagic. Overage is invoiced at the end of the billing "
          "month. Owners can set a monthly overage cap in the usage settings; without a cap, "
          "overage is not limited. Abyssal overage follows the rate in the contract."),
    ("p", "Minnow has no overage. Once its 500 run-minutes are used, new runs are refused with error "
          "LF-2011 until the next month begins."),
    ("p", "For predictable growth, run-minute packs cost less than overage. A pack of 25,000 "
          "run-minutes costs $125 and can be used for 12 months from the date of purchase. Pack "
          "minutes are only drawn on after the monthly allowance is used up."),
    ("h1", "5. Add-ons"),
    ("bullets", [
        "Extended History - keeps run history and logs for an additional 12 months. $300 per month "
        "per organization. Available on Reef and Pelagic.",
        "Audit Log for Reef - $90 per month. The audit log is already included in Pelagic and "
        "Abyssal.",
        "Dedicated runners - a medium-size hosted machine reserved for one workspace, never shared, "
        "that keeps its disk between runs. $220 per runner per month, Pelagic and Abyssal only. "
        "Time on dedicated runners does not use run-minutes.",
        "Premier support for Pelagic - 12% of the annual subscription fee, with a minimum of "
        "$6,000 per year.",
    ]),
    ("h1", "6. Billing terms"),
    ("p", "Subscriptions are billed in US dollars, euros or pounds sterling. The currency is chosen "
          "when subscribing and cannot be changed during a term. Annual plans are paid in advance. "
          "Payment by invoice (bank transfer, due within 30 days) is available for annual "
          "subscriptions of $5,000 or more; all other subscriptions are paid by card."),
    ("p", "Seats added during a term are charged immediately, pro-rated for the rest of the term. "
          "Seats removed during a term stay billed until the next renewal. Upgrades to a higher plan "
          "take effect at once and are pro-rated; downgrades take effect at the end of the current "
          "billing period."),
    ("p", "Refunds: a first annual purchase can be cancelled within 14 days for a full refund. "
          "Monthly subscriptions are not refunded; cancelling simply stops the next renewal."),
    ("p", "If a card payment fails we retry it three times over 10 days and email the Owners each "
          "time. An organization whose invoice is still unpaid 21 days after the due date is moved "
          "to the Minnow plan, and anything beyond the Minnow limits becomes read-only."),
    ("h1", "7. Discounts"),
    ("bullets", [
        "Nonprofits: registered charities get 40% off Reef and Pelagic.",
        "Education: accredited schools and universities can use Reef at no cost for teaching and "
        "research, with up to 200 users. University administration departments pay normal prices.",
        "Startups: companies founded less than 3 years ago with less than $5 million in funding get "
        "50% off Pelagic for their first 12 months.",
    ]),
    ("p", "Discounts cannot be combined with each other or with run-minute pack promotions."),
    ("h1", "8. Free trial"),
    ("p", "New organizations can try Pelagic free for 21 days without entering a card. A trial "
          "organization can have up to 25 users and receives 5,000 run-minutes for the whole trial, "
          "not the full Pelagic allowance. Sales can extend a trial once, by 14 days."),
    ("p", "When the trial ends without a paid plan being chosen, the organization continues on "
          "Minnow. Data beyond the Minnow limits stays available read-only for 30 days."),
    ("p", "Questions about pricing: sales@lanternfish.example. Questions about invoices: "
          "billing@lanternfish.example."),
]

# --------------------------------------------------------------------------------------------
# Security and data handling (DOCX). Blocks: ("title"|"h1"|"p"|"bullets", content).
# The app's DOCX loader reads paragraphs (not tables), so all facts are in paragraphs.
# --------------------------------------------------------------------------------------------

SECURITY: list[tuple[str, object]] = [
    ("title", "Lanternfish Security and Data Handling"),
    ("p", "Version 2025-04, approved by Priya Ramanathan-Holt, Chief Information Security Officer, "
          "Orrery Labs. This document is fictional sample content."),
    ("h1", "1. Purpose"),
    ("p", "This document explains how Orrery Labs protects the information customers entrust to "
          "Lanternfish: what we store, where and for how long, how it is encrypted, who can reach it, "
          "and what happens when something goes wrong. It is written for security reviewers and "
          "procurement teams, and complements the Data Processing Addendum, which remains the "
          "binding contract."),
    ("h1", "2. Security organization"),
    ("p", "Security at Orrery Labs is led by the Chief Information Security Officer, who reports to "
          "the chief executive. A dedicated security team of nine people runs security engineering, "
          "detection and response, and compliance. Security policies are reviewed at least once a "
          "year and after every significant incident."),
    ("p", "Every employee completes security awareness training when they join and every year after "
          "that. Engineers also complete secure development training each year."),
    ("h1", "3. Certifications and independent testing"),
    ("p", "Lanternfish has been certified to ISO/IEC 27001 since March 2023; the certificate is "
          "renewed after a recertification audit every three years, with surveillance audits in "
          "between. An independent auditor examines our controls every year for a SOC 2 Type II "
          "report covering the period from 1 October to 30 September."),
    ("p", "External penetration tests are carried out twice a year by Halberd & Finch Security, "
          "an independent testing firm, and after every major release. A summary letter of the "
          "latest test is available to customers under a non-disclosure agreement."),
    ("h1", "4. Encryption"),
    ("p", "All customer data is encrypted at rest with AES-256-GCM. Connections to the web app, the "
          "API and webhook endpoints require TLS 1.2 or higher, and connections between Lanternfish "
          "and lantern-agent use TLS 1.3 only."),
    ("p", "Secrets in the Vault receive an extra layer of protection. Each secret is encrypted with a "
          "data key that belongs to its workspace, and the data keys are themselves encrypted by a "
          "master key held in a hardware security module. Workspace data keys are rotated "
          "automatically every 90 days. Secret values are decrypted only on the runner, at the "
          "moment a step needs them."),
    ("p", "Abyssal customers can bring their own key. With customer-managed keys, the master key for "
          "the organization's workspaces lives in the customer's AWS KMS or Azure Key Vault account, "
          "and revoking Lanternfish's access to that key makes the stored data unreadable within 15 "
          "minutes."),
    ("h1", "5. What we store"),
    ("p", "Lanternfish stores account details of users, flow definitions and their versions, Vault "
          "secrets, run metadata such as start times and status, step logs, and artifacts that steps "
          "publish. We do not store the data that flows move between systems unless a step writes it "
          "into a log or an artifact. Customers should therefore avoid printing personal data in "
          "step logs."),
    ("p", "Orrery Labs does not sell customer data and does not use customer logs, flow definitions "
          "or artifacts to train machine-learning models."),
    ("h1", "6. Where data is stored"),
    ("p", "Each workspace lives in the region chosen when it was created: us-west (Oregon, United "
          "States), eu-central (Frankfurt, Germany) or ap-southeast (Sydney, Australia). Flows, "
          "logs, artifacts, secrets and backups of a workspace stay in that region. Account and "
          "billing records for the organization are held in the us-west region."),
    ("h1", "7. Retention and deletion"),
    ("p", "Run logs and run history are kept for as long as the plan provides: 7 days on Minnow, "
          "30 days on Reef, 90 days on Pelagic and 400 days on Abyssal. Older entries are deleted "
          "automatically every night."),
    ("p", "When an organization cancels its subscription or deletes a workspace, the data first "
          "enters a 30-day grace period in which it can still be exported or restored. After that, "
          "it is deleted from the live systems. Copies in backups disappear as the backups age out, "
          "which takes at most another 35 days, so all customer data is gone no later than 65 days "
          "after cancellation."),
    ("p", "Customers who need deletion confirmed in writing can ask support for a deletion "
          "certificate once the 65 days have passed."),
    ("h1", "8. Backups and disaster recovery"),
    ("p", "Databases are backed up every 6 hours, and backups are kept for 35 days in a separate "
          "account within the same region. Our recovery point objective is 6 hours and our recovery "
          "time objective is 4 hours: after a disaster affecting a region, we aim to restore service "
          "within four hours, losing at most the last six hours of changes."),
    ("p", "Recovery is rehearsed in a full disaster-recovery exercise twice a year, in April and "
          "October. Results are summarised in the SOC 2 report."),
    ("h1", "9. Access by Orrery Labs staff"),
    ("p", "No employee has standing access to production systems. Engineers request access just in "
          "time for a specific task, a second engineer must approve each request, and access expires "
          "automatically after at most 8 hours. Every production session is recorded. Staff sign in "
          "with hardware security keys; passwords alone are never enough."),
    ("p", "Support engineers cannot see the contents of a customer workspace unless an Owner or "
          "Admin grants support access in the workspace settings. Support access ends automatically "
          "after 72 hours and can be revoked earlier at any time. Each use of support access appears "
          "in the customer's audit log."),
    ("h1", "10. Security controls for customers"),
    ("bullets", [
        "Single sign-on with SAML 2.0 on Pelagic and Abyssal, and SCIM provisioning on Abyssal.",
        "Mandatory two-factor authentication for all members, with authenticator apps or hardware "
        "security keys.",
        "IP allowlists on Pelagic and Abyssal, with up to 50 address ranges in CIDR notation per "
        "organization.",
        "An audit log of sign-ins, membership changes, deployments, secret access and settings "
        "changes, kept for one year.",
        "Scoped service tokens with optional expiry dates.",
    ]),
    ("h1", "11. Incident response"),
    ("p", "Security events are monitored around the clock by an on-call rotation of the security "
          "team. When we confirm a security incident that affects customer data, we notify the "
          "affected customers within 48 hours of confirmation, by email to Owners and on the status "
          "page. The notice describes what happened, which data was involved and what we are doing "
          "about it."),
    ("p", "Because customers are usually the data controllers, this 48-hour commitment is designed to "
          "leave them time to meet their own 72-hour deadline for notifying regulators under the "
          "GDPR."),
    ("h1", "12. Reporting vulnerabilities"),
    ("p", "Researchers can report vulnerabilities to security@lanternfish.example. We acknowledge "
          "reports within three business days and ask reporters to give us 90 days to fix a problem "
          "before publishing it. Our bug bounty programme pays up to $5,000 for a critical "
          "vulnerability, with smaller rewards for less severe findings."),
    ("h1", "13. Subprocessors"),
    ("p", "Orrery Labs uses a small number of subprocessors, such as its cloud infrastructure "
          "provider, an email delivery service and a payment processor. The current list is "
          "published in the Trust Center. We announce a new subprocessor at least 30 days before it "
          "starts processing customer data, and customers may object during that period."),
]


# --------------------------------------------------------------------------------------------
# Renderers
# --------------------------------------------------------------------------------------------

def build_pdf(path: Path) -> None:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    class PricingPDF(FPDF):
        def footer(self) -> None:
            self.set_y(-14)
            self.set_font("Helvetica", size=8)
            self.set_text_color(110)
            self.cell(0, 6, f"Lanternfish Pricing and Plans - page {self.page_no()} of {{nb}}",
                      align="C")
            self.set_text_color(0)

    pdf = PricingPDF(format="A4")
    pdf.set_title("Lanternfish Pricing and Plans")
    pdf.set_author("Orrery Labs (fictional)")
    pdf.set_creation_date(__import__("datetime").datetime(2025, 4, 1,
                          tzinfo=__import__("datetime").timezone.utc))
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    nl = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}
    for kind, content in PRICING:
        if kind == "title":
            pdf.set_font("Helvetica", "B", 20)
            pdf.cell(0, 11, content, **nl)
        elif kind == "subtitle":
            pdf.set_font("Helvetica", "I", 9)
            pdf.multi_cell(0, 4.5, content, **nl)
            pdf.ln(3)
        elif kind == "h1":
            pdf.ln(2)
            pdf.set_font("Helvetica", "B", 13)
            pdf.cell(0, 8, content, **nl)
        elif kind == "p":
            pdf.set_font("Helvetica", size=10)
            pdf.multi_cell(0, 5, content, **nl)
            pdf.ln(2)
        elif kind == "bullets":
            pdf.set_font("Helvetica", size=10)
            for item in content:
                pdf.set_x(pdf.l_margin + 4)
                pdf.multi_cell(0, 5, "- " + item, **nl)
                pdf.ln(1)
            pdf.ln(1)
        elif kind == "table":
            pdf.set_font("Helvetica", size=9)
            with pdf.table(col_widths=(52, 24, 24, 24, 26), line_height=5.5,
                           text_align=("LEFT", "CENTER", "CENTER", "CENTER", "CENTER")) as table:
                for row in content:
                    cells = table.row()
                    for value in row:
                        cells.cell(value)
            pdf.ln(3)
        else:
            raise ValueError(kind)
    pdf.output(str(path))


def build_docx(path: Path) -> None:
    import docx
    from docx.shared import Pt

    document = docx.Document()
    document.core_properties.author = "Orrery Labs (fictional)"
    document.core_properties.title = "Lanternfish Security and Data Handling"
    document.styles["Normal"].font.size = Pt(10.5)
    for kind, content in SECURITY:
        if kind == "title":
            document.add_heading(content, level=0)
        elif kind == "h1":
            document.add_heading(content, level=1)
        elif kind == "p":
            document.add_paragraph(content)
        elif kind == "bullets":
            for item in content:
                document.add_paragraph(item, style="List Bullet")
        else:
            raise ValueError(kind)
    # Fixed timestamps keep the file byte-stable between rebuilds where python-docx allows.
    import datetime as dt

    stamp = dt.datetime(2025, 4, 1, 9, 0, 0)
    document.core_properties.created = stamp
    document.core_properties.modified = stamp
    document.core_properties.last_modified_by = "Orrery Labs (fictional)"
    buffer = io.BytesIO()
    document.save(buffer)
    path.write_bytes(_stable_zip(buffer.getvalue()))


def _stable_zip(data: bytes) -> bytes:
    """Rewrite a zip (DOCX) with fixed entry timestamps so rebuilding gives identical bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=(2025, 4, 1, 9, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = item.external_attr
            dst.writestr(info, src.read(item.filename))
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# Question set
# --------------------------------------------------------------------------------------------

def _flexible(passage: str) -> re.Pattern[str]:
    """A pattern matching `passage` with any run of whitespace standing for any other."""
    words = passage.split()
    return re.compile(r"\s+".join(re.escape(w) for w in words))


def resolve_questions(texts: dict[str, str], questions: list[dict]) -> list[dict]:
    problems, out = [], []
    for i, q in enumerate(questions, 1):
        source = q["source"]
        if source not in texts:
            problems.append(f"#{i}: unknown source {source!r}")
            continue
        text = texts[source]
        matches = list(_flexible(q["context"]).finditer(text))
        if len(matches) != 1:
            problems.append(f"#{i}: context found {len(matches)} times in {source}: "
                            f"{q['context'][:70]!r}")
            continue
        context = matches[0].group(0)
        answers = [a for a in q["answers"] if a.lower() in text.lower()]
        missing = [a for a in q["answers"] if a.lower() not in text.lower()]
        if missing:
            problems.append(f"#{i}: answers not in extracted {source}: {missing}")
        if not any(a.lower() in context.lower() for a in answers):
            problems.append(f"#{i}: no answer inside the context: {q['answers']}")
        out.append({"question": q["question"], "answers": q["answers"], "source": source,
                    "context": context})
    if problems:
        raise SystemExit("Question set problems:\n  " + "\n  ".join(problems))
    return out


def main() -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "tools"))
    from sample_questions import QUESTIONS

    from core.documents import load_directory

    build_pdf(SAMPLES / PDF_NAME)
    build_docx(SAMPLES / DOCX_NAME)

    report = load_directory(SAMPLES)
    if report.errors:
        raise SystemExit(f"Load errors: {report.errors}")
    texts = {d.name: d.text for d in report.documents}
    resolved = resolve_questions(texts, QUESTIONS)
    with open(SAMPLES / QUESTIONS_NAME, "w", encoding="utf-8") as fh:
        for q in resolved:
            fh.write(json.dumps(q, ensure_ascii=False) + "\n")

    for d in report.documents:
        print(f"{d.name:40s} {d.kind:9s} pages={d.pages} chars={len(d.text)}")
    print(f"total chars={sum(len(t) for t in texts.values())}, questions={len(resolved)}")


if __name__ == "__main__":
    main()
