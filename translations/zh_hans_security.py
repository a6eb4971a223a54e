"""Chinese (Simplified) texts for messages added by the security fixes (issue 7, T9–T18)."""
# ruff: noqa: E501  (one message per line reads better than wrapped pairs)

ZH = {
    "Two-factor authentication is on. Your other sessions have been ended.": "双重验证已开启。您的其他会话已结束。",
}
