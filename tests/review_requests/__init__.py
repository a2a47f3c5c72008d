"""Tests of the review_requests plugin, against a real SMTP server on loopback."""
