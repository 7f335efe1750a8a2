"""Traditional → simplified Chinese for the characters shop questions use most (cheap, no deps).

Only one-to-one pairs common in commerce chat; anything else passes through unchanged.
"""

from __future__ import annotations

_PAIRS = (
    "貨货運运訂订單单發发錢钱換换幫帮買买賣卖價价麼么嗎吗時时間间還还個个們们這这裡里號号碼码"
    "確确認认請请問问題题給给優优關关於于務务戶户帳账賬账費费郵邮遞递達达過过會会來来開开無无"
    "對对說说話话聯联繫系係系專专員员壞坏損损質质顏颜長长預预計计幾几實实際际為为沒没寫写評评"
    "論论詢询進进處处應应該该現现點点線线擊击選选擇择當当歡欢謝谢語语種种類类樣样產产庫库補补"
    "訊讯電电歸归錯错誤误稅税額额總总減减滿满贈赠禮礼裝装寶宝貝贝舊旧屬属與与從从後后盡尽儘尽"
    "轉转門门購购車车鏈链銷销隊队團团網网頁页碼码圖图詳详細细規规則则條条範范圍围內内靈灵嗎吗"
    "準准備备雙双觸触態态狀状況况給给參参數数證证據据換换貼贴紙纸綫线銀银帶带檢检驗验劃划撥拨"
    "遲迟慢慢丟丢丟丢掉掉壓压縮缩衛卫報报價价錢钱廠厂據据撤撤銷销飛飞機机場场區区縣县鄉乡鎮镇"
    "門门牌牌樓楼層层號号碼码箱箱櫃柜簽签收收貨货員员體体驗验維维修修護护保保養养識识別别鑑鉴"
    "辦办傳传輸输檔档案案議议題题師师個个據据緊紧急急認认證证舉举擔担憂忧慮虑總总結结頭头週周鐘钟"
)
_TABLE = {ord(_PAIRS[i]): _PAIRS[i + 1] for i in range(0, len(_PAIRS) - 1, 2)}


def to_simplified(text: str) -> str:
    return text.translate(_TABLE)
