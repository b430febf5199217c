"""localcloud: real AWS Lambda handlers running against moto, inside a notebook.

    from localcloud import Cloud
    cloud = Cloud()
    hello = cloud.function("hello", lambda event, context: {"hi": event["name"]})
    hello.invoke({"name": "Ada"})
"""

from .errors import ConfigurationError, HandlerError, LocalCloudError, NetworkBlocked, Throttled, WaitTimeout
from .session import Cloud
from .trace import Record, Trace

__all__ = ["Cloud", "ConfigurationError", "HandlerError", "LocalCloudError", "NetworkBlocked", "Record",
           "Throttled", "Trace", "WaitTimeout"]
