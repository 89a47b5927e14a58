"""Beacon: a Slack bot that makes an NHS trust's leaders visible and its staff recognised."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("beacon")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
