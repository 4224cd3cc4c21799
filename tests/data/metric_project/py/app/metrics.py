from prometheus_client import Counter

from .names import PREFIX, COMMON

ORDERS = Counter("orders", "Orders placed.", [*COMMON, "status"], namespace=PREFIX)
