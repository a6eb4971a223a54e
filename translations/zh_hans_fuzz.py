"""Chinese (Simplified) texts for messages added by the form fuzzing fixes (issue 7, T21)."""
# ruff: noqa: E501  (one message per line reads better than wrapped pairs)

ZH = {
    "Choose one of the roles.": "请选择其中一个角色。",
    "Enter a date between 2000 and 2999.": "请输入 2000 年至 2999 年之间的日期。",
    "Not valid, so not used:": "以下筛选条件无效，未被使用：",
    "Remove the NUL character.": "请删除 NUL 字符。",
    "The input holds a NUL character, which cannot be stored. Remove it.": "输入中含有无法保存的 NUL 字符，请将其删除。",
    "Number must be between %(min)s and %(max)s.": "数值必须介于 %(min)s 和 %(max)s 之间。",
    "Paste the API token exactly as GoTone shows it.": "请按 GoTone 显示的原样粘贴 API 令牌。",
}
