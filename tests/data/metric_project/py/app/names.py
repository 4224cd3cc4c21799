PREFIX = "shop"
COMMON = ["region"]
