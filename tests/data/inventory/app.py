from prometheus_client import Counter, Histogram, start_http_server

ORDERS = Counter("shop_orders", "Orders placed.", ["payment"])
CHECKOUT_SECONDS = Histogram(
    "shop_checkout_duration_seconds",
    "Checkout latency.",
    buckets=(0.1, 0.25, 0.5, 1.0),
)
