"""The customer emails' SES templates (templates/), their renderer (render) and their generator into
template.yaml (ses_templates): sources and tools of the deployment and the local stack, not shipped in
the layer (the Lambdas send a template by its name: returns_core.outbound.notifications.catalogue)."""
