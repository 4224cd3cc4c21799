from prometheus_client import Gauge

ORDERS = Gauge("shop_orders_total", "A test double.", ["case"])
