from wagtail import blocks


class CalloutBlock(blocks.StructBlock):
    """A GOV.UK inset text or warning text."""

    style = blocks.ChoiceBlock(
        choices=[("inset", "Inset (for a useful aside)"), ("warning", "Warning")],
        default="inset",
    )
    text = blocks.RichTextBlock(features=["bold", "link"])

    class Meta:
        template = "cms/blocks/callout.html"
        icon = "warning"


class ContactDetailsBlock(blocks.StructBlock):
    heading = blocks.CharBlock(default="Contact us")
    organisation = blocks.CharBlock(required=False)
    phone = blocks.CharBlock(required=False)
    textphone = blocks.CharBlock(required=False)
    email = blocks.EmailBlock(required=False)
    opening_hours = blocks.CharBlock(
        required=False, help_text="For example: Monday to Friday, 9am to 5pm"
    )
    address = blocks.TextBlock(required=False)

    class Meta:
        template = "cms/blocks/contact_details.html"
        icon = "user"


class StepBlock(blocks.StructBlock):
    title = blocks.CharBlock()
    body = blocks.RichTextBlock(features=["bold", "link", "ul", "ol"])


class StepByStepBlock(blocks.StructBlock):
    heading = blocks.CharBlock()
    steps = blocks.ListBlock(StepBlock())

    class Meta:
        template = "cms/blocks/step_by_step.html"
        icon = "list-ol"


class ContentStreamBlock(blocks.StreamBlock):
    heading = blocks.CharBlock(form_classname="title", template="cms/blocks/heading.html")
    rich_text = blocks.RichTextBlock(
        features=["h3", "bold", "italic", "link", "ol", "ul", "document-link"],
        template="cms/blocks/rich_text.html",
    )
    callout = CalloutBlock()
    contact_details = ContactDetailsBlock()
    step_by_step = StepByStepBlock()


class GlossaryTermBlock(blocks.StructBlock):
    term = blocks.CharBlock()
    definition = blocks.RichTextBlock(features=["bold", "link"])

    class Meta:
        template = "cms/blocks/glossary_term.html"
        icon = "openquote"
