//! Result sharing: FHIR R4 reports for the centres and Standard Webhooks signatures.
