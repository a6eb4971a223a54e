"""Chinese (Simplified) translations of issue 12's auth hardening (helper B)."""
# ruff: noqa: E501  (one message per line reads better than wrapped pairs)

ZH = {
    "Use between %(low)d and %(high)d characters.": "请使用 %(low)d 到 %(high)d 个字符。",
    "This password is one of the most common ones. Choose another.": "这是最常见的密码之一，请换一个。",
    "Thank you. If this address was new, its account is ready: sign in with it below. If it already had an account, nothing was changed: sign in with that account's password.": "谢谢。如果这个地址是新的，账户已经建好：请在下方用它登录。如果它已有账户，则一切未变：请用该账户的密码登录。",
    "This request is larger than the portal accepts here. Shorten what you entered and send it again.": "此请求超出了门户在此处接受的大小。请缩短输入的内容后重新提交。",
    "The portal's database cannot be reached right now. Try again in a minute.": "目前无法连接门户的数据库。请一分钟后重试。",
    "This member has left the workspace meanwhile.": "该成员已在此期间离开了工作区。",
    "Only an owner can transfer ownership.": "只有所有者才能转让所有权。",
    "The set-up has not been started, or it was finished elsewhere. Start it again.": "设置尚未开始，或已在别处完成。请重新开始。",
    "You will need an authenticator app on your phone. Starting shows a new key for it.": "您需要手机上的身份验证器应用。开始后会显示一个新的密钥。",
    "Start the set-up": "开始设置",
    "Send the form again": "重新提交表单",
    "You are sending faster than this workspace allows for one member. Nothing was sent by this request.": "您的发送速度超过了此工作区对单个成员的限制。此请求未发送任何内容。",
    "You are exporting faster than this workspace allows for one member. Nothing was exported by this request.": "您的导出速度超过了此工作区对单个成员的限制。此请求未导出任何内容。",
    "You are refreshing faster than this workspace allows for one member. Nothing was refreshed by this request.": "您的刷新速度超过了此工作区对单个成员的限制。此请求未刷新任何内容。",
}
