"""Supervision of listed communities (挂牌督导): the register's use cases, risk profiles, progress and case reports."""
