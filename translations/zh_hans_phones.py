"""Chinese (Simplified) texts for phone number checks (app/services/phones.py)."""

ZH = {
    "Add the country code, for example +1 202 555 0775.": "请加上国家代码，例如 +1 202 555 0775。",
    "Enter a phone number.": "请输入电话号码。",
    "The country code is not valid.": "国家代码无效。",
    "The number has the wrong length for its country.": "该号码的长度不符合其国家的规则。",
    "The number is too long for its country.": "对其国家而言，该号码太长。",
    "The number is too long.": "号码太长。",
    "The number is too short for its country.": "对其国家而言，该号码太短。",
    "The number is too short.": "号码太短。",
    "This is not a phone number.": "这不是电话号码。",
}
