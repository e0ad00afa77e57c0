"""How each prepaid card scheme lays out its statement export (see docs/card-statements.md).

Each scheme maps our fields to its column headers. ``amount`` styles:
``spend_positive`` (one column, money spent is positive), ``spend_negative``
(one column, money spent is negative), ``debit_credit`` (two columns).
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class StatementScheme:
    name: str
    columns: dict[str, str]
    date_formats: tuple[str, ...]
    amount_style: str = "spend_positive"
    required: tuple[str, ...] = ("reference", "card_reference", "date", "merchant_name")
    notes: str = ""
    extra: dict = field(default_factory=dict)


SCHEMES: dict[str, StatementScheme] = {
    "default": StatementScheme(
        name="default",
        columns={
            "reference": "transaction_id",
            "card_reference": "card_reference",
            "date": "date",
            "merchant_name": "merchant_name",
            "merchant_postcode": "merchant_postcode",
            "mcc": "mcc",
            "amount": "amount",
        },
        date_formats=("%Y-%m-%d",),
        amount_style="spend_positive",
    ),
    "allpay": StatementScheme(
        name="allpay",
        columns={
            "reference": "Transaction Reference",
            "card_reference": "Card Number",
            "date": "Transaction Date",
            "merchant_name": "Merchant",
            "merchant_postcode": "Merchant Postcode",
            "mcc": "MCC",
            "debit": "Debit",
            "credit": "Credit",
        },
        date_formats=("%d/%m/%Y",),
        amount_style="debit_credit",
    ),
    "pfs": StatementScheme(
        name="pfs",
        columns={
            "reference": "Trans ID",
            "card_reference": "Card ID",
            "date": "Date",
            "merchant_name": "Description",
            "merchant_postcode": "Merchant Post Code",
            "mcc": "MCC Code",
            "amount": "Amount",
        },
        date_formats=("%d/%m/%Y %H:%M", "%d/%m/%Y"),
        amount_style="spend_negative",
    ),
    "eml": StatementScheme(
        name="eml",
        columns={
            "reference": "TransactionId",
            "card_reference": "AccountNumber",
            "date": "TransactionDate",
            "merchant_name": "MerchantName",
            "merchant_postcode": "MerchantPostcode",
            "mcc": "MerchantCategoryCode",
            "amount": "BillingAmount",
            "direction": "DebitCredit",
        },
        date_formats=("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"),
        amount_style="direction",
    ),
}
