"""The viewers' pages' filters: dates in sentences the way the admin writes them ("3 Dec 2026, 13:25 UTC": the
clock named, no "p.m." for a full stop to double), so that a viewer and an operator read the same time."""

from django import template

from viewers.templatetags import admin_pages

register = template.Library()
register.filter("in_sentence", admin_pages.in_sentence, expects_localtime=True)
