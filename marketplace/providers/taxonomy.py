"""The service categories the whole platform speaks: directory, payments and demand figures.

One list so a search filter, a card transaction's fallback category and a
commissioner's chart all mean the same thing by "home care".
"""

from django.db import models


class ServiceCategory(models.TextChoices):
    HOME_CARE = "home_care", "Home care"
    PERSONAL_ASSISTANTS = "personal_assistants", "Personal assistants"
    DAY_OPPORTUNITIES = "day_opportunities", "Day opportunities"
    SHORT_BREAKS = "short_breaks", "Short breaks and respite"
    MEALS = "meals", "Meals and lunch clubs"
    TRANSPORT = "transport", "Transport"
    EQUIPMENT = "equipment", "Equipment and assistive technology"
    ADVICE = "advice", "Advice, advocacy and brokerage"
    SOCIAL_LEISURE = "social_leisure", "Social and leisure activities"
    BEFRIENDING = "befriending", "Befriending"
    INTERPRETING = "interpreting", "Interpreting"
    OTHER = "other", "Other support"


CATEGORY_DESCRIPTIONS: dict[str, str] = {
    ServiceCategory.HOME_CARE: "Help at home with washing, dressing, meals and medication.",
    ServiceCategory.PERSONAL_ASSISTANTS: "Someone you employ or choose to support you your way.",
    ServiceCategory.DAY_OPPORTUNITIES: "Day centres and activities to learn, work and meet people.",
    ServiceCategory.SHORT_BREAKS: "Time away for you, or a break for the people who care for you.",
    ServiceCategory.MEALS: "Meals delivered at home, and lunch clubs to eat with others.",
    ServiceCategory.TRANSPORT: "Getting to appointments, activities and the shops.",
    ServiceCategory.EQUIPMENT: "Aids, adaptations and technology that help you stay independent.",
    ServiceCategory.ADVICE: "Help to plan, choose, speak up and manage your budget.",
    ServiceCategory.SOCIAL_LEISURE: "Clubs, classes, sport and trips.",
    ServiceCategory.BEFRIENDING: "Regular company from a volunteer or paid befriender.",
    ServiceCategory.INTERPRETING: "Spoken and sign language interpreting.",
    ServiceCategory.OTHER: "Support that does not fit another category.",
}
