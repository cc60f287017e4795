"""Everything the domain sends out, and the services it calls: SNS events and alerts (`events`),
the Step Functions execution (`workflow`), customer emails and SMS (`messaging`, rendered by
`notifications`), payment providers (`payments`), carriers and relay points (`carriers`),
label PDFs in S3 (`label_store`), Secrets Manager (`secret_store`)."""
