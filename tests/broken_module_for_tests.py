"""A module whose import fails, as a handler with a missing dependency does on Lambda."""

import not_a_real_dependency  # noqa: F401


def handler(event, context):
    return "never"
