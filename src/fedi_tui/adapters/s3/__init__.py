"""Garage's S3 endpoint through boto3: prove an application's key works, count objects."""

from fedi_tui.adapters.s3.objects import S3Objects

__all__ = ["S3Objects"]
