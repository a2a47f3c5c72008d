"""Request bodies from Intuit's Accounting API reference (developer.intuit.com, API reference
pages for each entity, "Sample request" sections), written down as test data. Ids refer to
Intuit's sandbox company, which the emulator's demo company mirrors (customer 1 is Amy's
Bird Sanctuary, 20 is Red Rock Diner, item 1 Services, 10 Pest Control, accounts 79/80/81).
Where a sample names an Id that only exists in Intuit's own sandbox (an invoice, a payment),
the test fills in one it made."""

CUSTOMER_CREATE = {
    "FullyQualifiedName": "King Groceries",
    "PrimaryEmailAddr": {"Address": "jdrew@myemail.com"},
    "DisplayName": "King's Groceries",
    "Suffix": "Jr",
    "Title": "Mr",
    "MiddleName": "B",
    "Notes": "Here are other details.",
    "FamilyName": "King",
    "PrimaryPhone": {"FreeFormNumber": "(555) 555-5555"},
    "CompanyName": "King Groceries",
    "BillAddr": {
        "CountrySubDivisionCode": "CA",
        "City": "Mountain View",
        "PostalCode": "94042",
        "Line1": "123 Main Street",
        "Country": "USA",
    },
    "GivenName": "James",
}

CUSTOMER_SPARSE_UPDATE = {"MiddleName": "Mark", "SyncToken": "0", "Id": "1", "sparse": True}

INVOICE_CREATE = {
    "Line": [
        {
            "DetailType": "SalesItemLineDetail",
            "Amount": 100.0,
            "SalesItemLineDetail": {"ItemRef": {"name": "Services", "value": "1"}},
        }
    ],
    "CustomerRef": {"value": "1"},
}

ITEM_CREATE_INVENTORY = {
    "TrackQtyOnHand": True,
    "Name": "Garden Supplies",
    "QtyOnHand": 10,
    "IncomeAccountRef": {"name": "Sales of Product Income", "value": "79"},
    "AssetAccountRef": {"name": "Inventory Asset", "value": "81"},
    "InvStartDate": "2015-01-01",
    "Type": "Inventory",
    "ExpenseAccountRef": {"name": "Cost of Goods Sold", "value": "80"},
}

ACCOUNT_CREATE = {"Name": "MyJobs_test", "AccountType": "Accounts Receivable"}

PAYMENT_CREATE_UNAPPLIED = {"TotalAmt": 25.0, "CustomerRef": {"value": "20"}}

PAYMENT_CREATE_LINKED = {
    "TotalAmt": 55.0,
    "Line": [{"Amount": 55.0, "LinkedTxn": [{"TxnId": "69", "TxnType": "Invoice"}]}],
    "CustomerRef": {"value": "20", "name": "Red Rock Diner"},
}

SALES_RECEIPT_CREATE = {
    "Line": [
        {
            "Description": "Pest Control Services",
            "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {
                "TaxCodeRef": {"value": "NON"},
                "Qty": 1,
                "UnitPrice": 35,
                "ItemRef": {"name": "Pest Control", "value": "10"},
            },
            "LineNum": 1,
            "Amount": 35.0,
            "Id": "1",
        }
    ]
}

BATCH = {
    "BatchItemRequest": [
        {"bId": "bid1", "Vendor": {"DisplayName": "Smith Family Store"}, "operation": "create"},
        {"bId": "bid2", "operation": "delete", "Invoice": {"SyncToken": "0", "Id": "129"}},
        {
            "SalesReceipt": {
                "PrivateNote": "A private note.",
                "SyncToken": "0",
                "domain": "QBO",
                "Id": "11",
                "sparse": True,
            },
            "bId": "bid3",
            "operation": "update",
        },
        {"Query": "select * from SalesReceipt where TotalAmt > '300.00'", "bId": "bid4"},
    ]
}

QUERIES = [
    "select * from Customer Where Metadata.LastUpdatedTime > '2015-03-01'",
    "select * from Invoice where TxnDate > '2014-04-25'",
    "select * from Item where Type = 'Service'",
    "Select Count(*) from Customer",
    "select * from Account where AccountType = 'Income' orderby Name maxresults 10",
]
