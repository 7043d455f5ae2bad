"""A child's records on request (subject access): everything the service holds about one child, collected once
(`collect`), redacted by a pure function when asked (`redact`), and written as a ZIP of `records.json`, `records.pdf`
and a README (`document`), both files from the same collected structure; the QA lead's page and API (`views`, `api`)
record each request in the audit trail (`service`)."""
