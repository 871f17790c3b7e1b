"""Loopback HTTP, moto, the SQS emulator, the stand-in; and the tests that run SAM, cfn-lint, checkov, bench."""
