"""Chinese (Simplified) texts for the gateway URL policy (issue 12, helper A1)."""
# ruff: noqa: E501  (one message per line reads better than wrapped pairs)

ZH = {
    "Enter the gateway's address as https://host/api/v3, with a plain host name and port.": "请按 https://主机/api/v3 的格式输入网关地址，只含主机名和端口。",
    "Enter an address that starts with https://.": "请输入以 https:// 开头的地址。",
    "This server only connects to gateways over https://.": "本服务器只通过 https:// 连接网关。",
    "Remove the user name or password (the part before “@”) from the address: the API token is the only credential.": "请从地址中删除用户名或密码（“@”之前的部分）：API 令牌是唯一的凭据。",
    "Remove the query string or fragment (from “?” or “#” on) from the address.": "请从地址中删除查询字符串或片段（从“?”或“#”起的部分）。",
    "Write an IP address as four decimal numbers, such as 203.0.113.7, or use the gateway's host name.": "IP 地址请写成四个十进制数（例如 203.0.113.7），或使用网关的主机名。",
    "This gateway address is not allowed on this server. Ask its administrator which gateways can be used.": "本服务器不允许使用此网关地址。请向管理员询问可以使用哪些网关。",
    "This address points into a private or local network (such as localhost, 10.x or 192.168.x), which this server does not connect to.": "此地址指向私有或本地网络（例如 localhost、10.x 或 192.168.x），本服务器不会连接。",
    "The gateway's host name could not be found. Check its spelling.": "找不到网关的主机名。请检查拼写。",
    "This workspace's gateway URL cannot be used: %(reason)s An admin can change it in the workspace settings.": "无法使用此工作区的网关地址：%(reason)s 管理员可以在工作区设置中修改。",
}
