"""Chinese (Simplified) texts for gateway reliability: the circuit breaker (issue 7)."""
# ruff: noqa: E501  (one message per line reads better than wrapped pairs)

ZH = {
    "GoTone %(action)s: not asked, an earlier call of this page timed out (%(error)s)": "GoTone %(action)s：未调用，本页面较早的一次调用已超时（%(error)s）",
    "GoTone is not answering, so the portal stopped calling it for a while. Nothing was sent.": "GoTone 没有响应，门户已暂时停止调用它。没有发送任何内容。",
}
