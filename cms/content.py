"""Starter content for people new to personal budgets, written in plain English.

Loaded by seed_demo and by ``manage.py load_starter_content`` for a new council site.
"""

from datetime import date

from django.conf import settings as django_settings

from wagtail.coreutils import get_supported_content_language_variant
from wagtail.models import Locale, Page, Site

from .models import GlossaryPage, HomePage, InformationIndexPage, InformationPage, SiteSettings


def _p(*paragraphs: str) -> str:
    return "".join(f"<p>{text}</p>" for text in paragraphs)


def _ul(*items: str) -> str:
    return "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


GUIDES = [
    {
        "title": "What is a personal budget?",
        "slug": "what-is-a-personal-budget",
        "summary": "The money the council gives you for your care and support, and how you can use it.",
        "body": [
            (
                "rich_text",
                _p(
                    "If the council agrees you need care and support, it works out how much that support "
                    "should cost. That amount is your <b>personal budget</b>.",
                    "You decide with a social worker what you want to achieve, for example staying in your "
                    "own home, getting out to see friends, or having a break from caring. This is written "
                    "down in your <b>support plan</b>. Your budget pays for the support in that plan.",
                ),
            ),
            ("heading", "Ways to take your budget"),
            (
                "rich_text",
                _ul(
                    "<b>Direct payment</b>: the money is paid to you (or someone you trust) and you arrange "
                    "and pay for your support yourself.",
                    "<b>Council-managed</b>: the council arranges and pays for the support you choose.",
                    "<b>A mix of both</b>: for example, the council pays your home care and you get a "
                    "direct payment for a personal assistant.",
                ),
            ),
            (
                "callout",
                {
                    "style": "inset",
                    "text": "<p>You can change how you take your budget at any "
                    "time. Ask your social worker or call us.</p>",
                },
            ),
            (
                "step_by_step",
                {
                    "heading": "How you get a personal budget",
                    "steps": [
                        {
                            "title": "Ask for an assessment",
                            "body": "<p>Call the council or ask your GP to refer you. "
                            "The assessment is free, whatever your income.</p>",
                        },
                        {
                            "title": "Find out your indicative budget",
                            "body": "<p>Your answers give an early "
                            "estimate of your budget so you can start planning.</p>",
                        },
                        {
                            "title": "Make your support plan",
                            "body": "<p>Plan how you will use the money, on your "
                            "own, with family, or with a support broker.</p>",
                        },
                        {
                            "title": "Agree the plan and start",
                            "body": "<p>The council checks the plan and confirms "
                            "your budget. You can then start buying support.</p>",
                        },
                    ],
                },
            ),
        ],
    },
    {
        "title": "Direct payments",
        "slug": "direct-payments",
        "summary": "Getting your personal budget as money you control, and what you need to keep track of.",
        "body": [
            (
                "rich_text",
                _p(
                    "A direct payment gives you the most choice and control. You can employ a personal "
                    "assistant, use an agency, or pay for activities that meet the goals in your support plan.",
                    "Most people in this borough get their direct payment on a prepayment card, so there is "
                    "no separate bank account to open and no paper statements to send.",
                ),
            ),
            ("heading", "What you need to do"),
            (
                "rich_text",
                _ul(
                    "spend the money on the things in your support plan",
                    "keep receipts for anything not paid with the card",
                    "tell us if your needs change or you go into hospital",
                ),
            ),
            (
                "callout",
                {
                    "style": "warning",
                    "text": "<p>If more than 8 weeks of money builds up unspent, "
                    "the council will contact you. It may ask for some back, but it will always talk "
                    "to you first.</p>",
                },
            ),
        ],
    },
    {
        "title": "Using your personal budget card",
        "slug": "using-your-personal-budget-card",
        "summary": "Paying for support with your prepayment card, checking your balance and what it cannot be used for.",
        "body": [
            (
                "rich_text",
                _p(
                    "Your card works like a debit card, but it only holds your care money. The council puts "
                    "money on it every week or every 4 weeks.",
                    "You can use it in shops, online and over the phone with providers who take card "
                    "payments. In Social Care Connect, look for providers marked “takes the prepayment card”.",
                ),
            ),
            ("heading", "What the card cannot be used for"),
            (
                "rich_text",
                _ul(
                    "gambling or betting",
                    "pubs, bars and off-licences",
                    "tobacco",
                    "dating and escort services",
                    "pawn shops and money transfers",
                    "cash machines, unless your support plan allows cash",
                ),
            ),
            (
                "rich_text",
                _p(
                    "If the card is declined, nothing is taken from your balance. You can see every payment, "
                    "and every decline, on your statement in your account."
                ),
            ),
            (
                "contact_details",
                {
                    "heading": "Card lost or stolen?",
                    "organisation": "Direct payments team",
                    "phone": "020 8359 4000",
                    "opening_hours": "24 hours a day, 7 days a week",
                    "email": "",
                    "textphone": "18001 020 8359 4000",
                    "address": "",
                },
            ),
        ],
    },
    {
        "title": "Getting help to plan and manage your budget",
        "slug": "getting-help-to-manage-your-budget",
        "summary": "Support brokers, advocates and family members who can act for you.",
        "body": [
            (
                "rich_text",
                _p(
                    "You do not have to do it all yourself. A <b>support broker</b> can help you plan how to "
                    "use your budget and find providers. An <b>advocate</b> helps you say what you want and "
                    "makes sure you are heard.",
                    "You can also let a family member, carer or friend act for you. In your account you choose "
                    "exactly what they may do, for example pay providers or write reviews, and until when.",
                ),
            ),
            (
                "callout",
                {
                    "style": "inset",
                    "text": "<p>Every time someone looks at or changes your "
                    "records it is logged, and you can see that log in your account.</p>",
                },
            ),
        ],
    },
    {
        "title": "If you pay for your own care",
        "slug": "if-you-pay-for-your-own-care",
        "summary": "Help and advice for self-funders: finding, comparing and choosing care.",
        "body": [
            (
                "rich_text",
                _p(
                    "If your savings or income are over the limit for council funding, you are a "
                    "<b>self-funder</b>. You can still get free advice from the council, an assessment of your "
                    "needs, and use Social Care Connect to find and compare providers.",
                    "Prices shown in the directory are the provider's usual prices. Always confirm the price "
                    "and what it includes before you agree to anything.",
                ),
            ),
        ],
    },
]

GLOSSARY = [
    (
        "Advocacy",
        "Independent help to speak up for yourself and make sure your views are heard and taken seriously.",
    ),
    (
        "Brokerage",
        "Help to plan and arrange the support you want, including writing your support plan and finding providers. A person who does this is a support broker.",
    ),
    (
        "Care pathway",
        "The route you take through social care, from first contact with the council to when you no longer need support.",
    ),
    (
        "Direct payment",
        "A personal budget paid to you, or someone acting for you, so you can arrange and pay for support yourself.",
    ),
    (
        "Eligibility criteria",
        "The national rules the council uses to decide whether your needs mean it must arrange or pay for support.",
    ),
    (
        "Individual budget",
        "Money for your support that can come from more than one source. Often used to mean the same as personal budget.",
    ),
    (
        "Personal budget",
        "The amount of money the council decides your care and support should cost. You can take it as a direct payment, leave the council to manage it, or mix both.",
    ),
    (
        "Personalisation",
        "Care and support shaped around you: what matters to you, your choices and your independence, rather than fitting you into existing services.",
    ),
    (
        "Proxy",
        "Someone you trust, such as a relative, carer, advocate or appointee, who you allow to act for you on this site.",
    ),
    (
        "Re-ablement",
        "Short-term, intensive support after an illness, accident or hospital stay to help you get back to living as independently as possible.",
    ),
    (
        "Resource Allocation System (RAS)",
        "The council's way of turning the answers from your assessment into an early estimate of your personal budget.",
    ),
    (
        "Self-directed assessment",
        "An assessment you lead as far as possible, with a professional, focused on the outcomes you want.",
    ),
    (
        "Self-directed support",
        "Ways of working that put you in control of your personal budget and how it is used.",
    ),
    (
        "Self-funder",
        "Someone who pays for their own care because their income or savings are above the limit for council funding. Self-funders can still get advice and use this directory.",
    ),
    (
        "Support plan",
        "The plan you agree with the council about what you want to achieve and how your personal budget will pay for it.",
    ),
    (
        "Universal services",
        "Services anyone can use, such as libraries, leisure centres, transport and advice, whether or not they get social care.",
    ),
    (
        "Prepayment card",
        "A card that holds your direct payment. The council tops it up and you pay providers with it, like a debit card.",
    ),
]


def load_starter_content(*, council_name: str = "London Borough of Barnet") -> HomePage:
    """Create the home page, advice section and glossary, and point the default site at them.

    Safe to call once on a new site; returns the existing home page if there is one.
    """
    existing = HomePage.objects.first()
    if existing is not None:
        return existing
    Locale.objects.get_or_create(
        language_code=get_supported_content_language_variant(django_settings.LANGUAGE_CODE)
    )
    root = Page.get_first_root_node()
    if root is None:  # a database emptied by a test run, or built without Wagtail's migrations
        root = Page.add_root(instance=Page(title="Root", slug="root", content_type=None))
    # Wagtail's placeholder "Welcome" page is replaced by ours.
    for placeholder in root.get_children().exact_type(Page):
        placeholder.delete()
    root.refresh_from_db()
    home = root.add_child(
        instance=HomePage(
            title="Find care and support that works for you",
            slug="home",
            intro="Search care and support in the borough, compare prices and reviews, and pay from your personal budget.",
        )
    )
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        site = Site.objects.create(
            hostname="localhost",
            port=80,
            root_page=home,
            is_default_site=True,
            site_name="Social Care Connect",
        )
    else:
        site.root_page = home
        site.site_name = "Social Care Connect"
        site.save()

    advice = home.add_child(
        instance=InformationIndexPage(
            title="Information and advice",
            slug="advice",
            intro="<p>Plain-English guides to personal budgets, direct payments and finding support.</p>",
        )
    )
    for guide in GUIDES:
        advice.add_child(
            instance=InformationPage(
                title=guide["title"],
                slug=guide["slug"],
                summary=guide["summary"],
                body=guide["body"],
                last_reviewed=date(2026, 11, 1),
            )
        )
    advice.add_child(
        instance=GlossaryPage(
            title="Glossary: social care words explained",
            slug="glossary",
            intro="<p>What the words you may hear from social workers and providers mean.</p>",
            terms=[
                ("term", {"term": term, "definition": f"<p>{text}</p>"}) for term, text in GLOSSARY
            ],
        )
    )
    settings = SiteSettings.for_site(site)
    settings.council_name = council_name
    settings.save()
    return home


def seed(ctx) -> None:
    load_starter_content()
