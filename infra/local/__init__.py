"""The local stack: moto as the AWS emulator, template.yaml deployed into it, the Chalice app served."""
