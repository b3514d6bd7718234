"""Moment search: query understanding, one SQL query per channel, fusion, results."""
