"""DynamoDB, and nothing else: one PynamoDB model per table (`models`), the one way to
write a record that others may be writing too (`writes`), the return's record and its
timeline (`returns`), and the refund ledger's table (`ledger`)."""
