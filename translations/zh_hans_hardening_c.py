"""Chinese (Simplified) texts added by helper C's fixes of issue 12 (ids, files, exports,
numbers from the gateway, XLSX limits, job kinds, the live counter)."""
# ruff: noqa: E501  (one message per line reads better than wrapped pairs)

ZH = {
    "Bulk send": "批量发送",
    "Group or send": "群组或发送",
    "Gateway calls": "网关调用",
    "Accepted by the gateway": "网关已接受",
    "Not all accepted (failed or unknown)": "未全部接受（失败或未知）",
    "See every recipient's state on the send's page": "在该发送的页面查看每位收件人的状态",
    "This Excel file unpacks to far more data than a contact list holds (%(mb)s MB), so it was not opened. Save it as CSV UTF-8, or split it, and upload it again.": "此 Excel 文件解压后的数据量（%(mb)s MB）远超联系人列表应有的大小，因此未被打开。请将其另存为 CSV UTF-8 或拆分后重新上传。",
    "Counted as sent with the fallbacks in place of names and a 15-digit number for {phone}. Names make a text longer: the review counts each recipient's own text.": "按实际发送的文本计数：姓名处使用备用文字，{phone} 按 15 位号码计算。姓名会使文本变长：审核时会按每位收件人自己的文本计数。",
}
