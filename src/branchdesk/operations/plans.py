"""The built-in emergency plans (data): one per scenario, steps in zh-Hant, zh-Hans and en.

`branchdesk operations load-plans` writes them (a plan already in the database is kept unless
``--replace``); compliance officers may edit them through the API afterwards.
"""

from __future__ import annotations

from branchdesk.operations.models import Scenario


def _step(zh_hant: str, zh_hans: str, en: str) -> dict[str, str]:
    return {"zh-Hant": zh_hant, "zh-Hans": zh_hans, "en": en}


DEFAULT_PLANS: dict[Scenario, tuple[tuple[str, str, str], list[dict[str, str]]]] = {
    Scenario.system_outage: (
        ("系統中斷應變", "系统中断应急", "System outage"),
        [
            _step("通報資訊部門並記錄中斷時間", "通报信息部门并记录中断时间",
                  "Report to IT and note the time the outage began"),
            _step("叫號機改用預先配號的紙本號碼", "叫号机改用预先分配的纸质号码",
                  "Switch the kiosk to its pre-allocated paper ticket block"),
            _step("暫停需連線的交易並告知客戶", "暂停需联机的交易并告知客户",
                  "Suspend online transactions and tell waiting customers"),
            _step("系統恢復後上傳紙本號碼並核對帳務", "系统恢复后上传纸质号码并核对账务",
                  "When back, upload the paper tickets and reconcile"),
        ],
    ),
    Scenario.cash_shortage: (
        ("現金短缺應變", "现金短缺应急", "Cash shortage"),
        [
            _step("清點金庫與櫃員現金並記錄差額", "清点金库与柜员现金并记录差额",
                  "Count vault and teller cash and record the difference"),
            _step("通報分行經理與現金中心", "通报网点经理与现金中心",
                  "Inform the branch manager and the cash centre"),
            _step("申請緊急調撥現金", "申请紧急调拨现金", "Request an emergency cash delivery"),
            _step("限制大額提領並引導客戶至鄰近分行", "限制大额取现并引导客户至邻近网点",
                  "Limit large withdrawals and direct customers to nearby branches"),
        ],
    ),
    Scenario.robbery: (
        ("搶案應變", "抢劫应急", "Robbery"),
        [
            _step("確保人員安全，勿抵抗", "确保人员安全，勿反抗",
                  "Keep everyone safe; do not resist"),
            _step("按下警鈴並報警", "按下警铃并报警", "Press the alarm and call the police"),
            _step("保全現場與監視錄影", "保护现场与监控录像",
                  "Secure the scene and the video recordings"),
            _step("記錄嫌犯特徵與損失金額", "记录嫌犯特征与损失金额",
                  "Record the suspects' description and the amount lost"),
            _step("通報總行並登記損失事件", "通报总行并登记损失事件",
                  "Report to head office and record the loss event"),
        ],
    ),
    Scenario.fire: (
        ("火災應變", "火灾应急", "Fire"),
        [
            _step("啟動火警警報並撥打消防電話", "启动火警警报并拨打消防电话",
                  "Raise the fire alarm and call the fire service"),
            _step("引導客戶與員工疏散至集合點", "引导客户与员工疏散至集合点",
                  "Evacuate customers and staff to the assembly point"),
            _step("鎖上金庫與現金抽屜（如安全）", "锁上金库与现金抽屉（如安全）",
                  "Lock the vault and cash drawers if it is safe"),
            _step("清點人數並通報總行", "清点人数并通报总行",
                  "Count everyone and report to head office"),
        ],
    ),
    Scenario.network_loss: (
        ("網路中斷應變", "网络中断应急", "Network loss"),
        [
            _step("確認中斷範圍並通報網路中心", "确认中断范围并通报网络中心",
                  "Check the extent and report to the network centre"),
            _step("切換備援線路", "切换备用线路", "Switch to the backup line"),
            _step("叫號機改用紙本號碼", "叫号机改用纸质号码",
                  "Switch the kiosk to paper tickets"),
            _step("恢復後上傳紙本號碼", "恢复后上传纸质号码",
                  "When back, upload the paper tickets"),
        ],
    ),
}  # fmt: skip
