"""Chinese (Simplified) texts for the issue 12 outbox, sweep and gateway-history fixes (helper D)."""
# ruff: noqa: E501  (one message per line reads better than wrapped pairs)

ZH = {
    "The sending process stopped during the gateway call: the gateway may or may not have received it.": "发送进程在调用网关期间中止：网关可能已收到，也可能未收到此消息。",
    "This message is already scheduled; it was not scheduled again.": "此消息已安排发送，未再次安排。",
    "This message is already queued (%(num)s recipients) and will go out once; it was not queued again.": "此消息已在队列中（%(num)s 位收件人），只会发送一次；未再次排队。",
    "This message is already going out: %(sent)s of %(total)s sent so far, %(pending)s waiting. Nothing was queued again.": "此消息正在发送：目前已发送 %(total)s 条中的 %(sent)s 条，%(pending)s 条等待中。未再次排队。",
    "This message was already sent to %(sent)s of %(total)s recipients (%(unknown)s unknown, %(failed)s not sent). Nothing was sent again.": "此消息已发送给 %(total)s 位收件人中的 %(sent)s 位（%(unknown)s 条状态未知，%(failed)s 条未发送）。未再次发送。",
    "This message was already submitted, and none of its %(num)s messages went out. Open it to see why; nothing was sent now.": "此消息已提交过，其 %(num)s 条消息均未发出。请打开查看原因；本次未发送任何消息。",
    "Your send is stored (%(num)s recipients) and will go out as soon as the job queue is available again. Do not send it again.": "您的发送已保存（%(num)s 位收件人），任务队列恢复后将立即发出。请勿再次发送。",
    "This is the gateway's own message list, as the gateway reports it — not the portal's outbox. Older gateways include other customers' messages in it, so only the messages this portal sent from this workspace are shown.": "这是网关自己的消息列表（按网关的报告显示），不是门户的发件箱。较旧的网关会在其中包含其他客户的消息，因此只显示本门户从此工作区发送的消息。",
    "Not shown on this page: %(num)s message(s) of the gateway's list. Nothing shows that they belong to this workspace's gateway account: this workspace did not send them through the portal, and the gateway names no account for them (older gateways list other customers' messages here).": "本页未显示网关列表中的 %(num)s 条消息。没有任何信息表明它们属于此工作区的网关账户：此工作区未通过门户发送它们，网关也未注明其所属账户（较旧的网关会在此列出其他客户的消息）。",
    "No message on this page can be shown.": "本页没有可显示的消息。",
    "Stored, and waiting for the job queue: it goes out once the queue is available again.": "已保存，正在等待任务队列：队列恢复后即会发出。",
}
