"""Merchant category codes (ISO 18245) to our service categories.

When a card transaction cannot be matched to a directory provider, its
merchant category code still says roughly what was bought.
"""

from marketplace.providers.taxonomy import ServiceCategory

MCC_CATEGORIES: dict[str, ServiceCategory] = {
    "8050": ServiceCategory.HOME_CARE,  # nursing and personal care facilities
    "8099": ServiceCategory.HOME_CARE,  # medical services, not elsewhere classified
    "8062": ServiceCategory.SHORT_BREAKS,  # hospitals (respite stays)
    "7011": ServiceCategory.SHORT_BREAKS,  # hotels and lodging
    "7033": ServiceCategory.SHORT_BREAKS,  # campgrounds and trailer parks
    "5812": ServiceCategory.MEALS,  # restaurants
    "5814": ServiceCategory.MEALS,  # fast food
    "5499": ServiceCategory.MEALS,  # convenience food
    "4121": ServiceCategory.TRANSPORT,  # taxis
    "4111": ServiceCategory.TRANSPORT,  # local commuter transport
    "4131": ServiceCategory.TRANSPORT,  # bus lines
    "5047": ServiceCategory.EQUIPMENT,  # medical and dental equipment
    "5912": ServiceCategory.EQUIPMENT,  # pharmacies
    "5976": ServiceCategory.EQUIPMENT,  # orthopaedic goods and prosthetics
    "8398": ServiceCategory.ADVICE,  # charitable and social service organisations
    "8111": ServiceCategory.ADVICE,  # legal services
    "7997": ServiceCategory.SOCIAL_LEISURE,  # clubs and recreation
    "7941": ServiceCategory.SOCIAL_LEISURE,  # sports clubs
    "7832": ServiceCategory.SOCIAL_LEISURE,  # cinemas
    "7991": ServiceCategory.SOCIAL_LEISURE,  # tourist attractions and exhibits
    "7999": ServiceCategory.SOCIAL_LEISURE,  # recreation services
    "8299": ServiceCategory.DAY_OPPORTUNITIES,  # schools and educational services
    "8351": ServiceCategory.DAY_OPPORTUNITIES,  # day care services
    "7361": ServiceCategory.PERSONAL_ASSISTANTS,  # employment agencies
    "7299": ServiceCategory.OTHER,  # miscellaneous personal services
}


def category_for_mcc(mcc: str) -> ServiceCategory:
    return MCC_CATEGORIES.get(mcc, ServiceCategory.OTHER)
