"""Chinese (Simplified) texts for gateway reliability: the circuit breaker (issue 7)."""
# ruff: noqa: E501  (one message per line reads better than wrapped pairs)

ZH = {
    "GoTone is not answering, so the portal stopped calling it for a while. Nothing was sent.": "GoTone 没有响应，门户已暂时停止调用它。没有发送任何内容。",
}
