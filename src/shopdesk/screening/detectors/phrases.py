# ruff: noqa: E501  (regex and word tables: splitting them would hurt readability)
"""Phrase rules SCR-2…SCR-11 (and buyer extortion, SCR-12) in English, Chinese
(simplified and traditional) and Spanish, run over the ``plain`` view."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import repeat
from typing import TypeVar

from shopdesk.screening.gate import GATE, PY_SPACE_CHARS, Gated, WordCondition
from shopdesk.screening.model import Finding
from shopdesk.screening.normalise import Normalised


@dataclass(frozen=True, slots=True)
class PhraseRule:
    rule: str
    kind: str
    reason: str
    pattern: Gated
    negatable: bool = True
    # For ASCII text the rule runs only if one of these words is a whole ``[a-z0-9']+``
    # token (a prefilter that also decides results).
    anchors: WordCondition | None = None


def _w(words: str) -> WordCondition:
    return WordCondition(words.split(), "[a-z0-9']")


def _r(*parts: str) -> Gated:
    """One alternation of ``parts``: skipped unless its literals occur (gate.py), searched
    from its literal starts (fastre.py)."""
    return Gated(re.compile("|".join(f"(?:{p})" for p in parts)))


_PII = (
    r"(?:full |real |legal )?name|phone(?: number)?|mobile(?: number)?|cell(?: number)?|"
    r"e-?mail(?: address)?|(?:home |personal )?address|date of birth|dob|birthday|ssn|"
    r"social security(?: number)?|id card|id number|driver'?s licen[cs]e|passport|"
    r"mother'?s maiden name|bank (?:card|account|details)|card number|cvv|pin|password|"
    r"online banking|login|credentials|whatsapp(?: number)?|wechat(?: id)?|personal (?:info|details)"
)
_ZH_PII = (
    r"身份证|身份證|身分證|手机号|手機號|电话|電話|真实姓名|真實姓名|姓名|支付宝账号|支付寶帳號|银行卡|銀行卡|"
    r"生日|出生日期|住址|家庭地址|密码|密碼|验证码|驗證碼|v信号|微信号|微信號|qq号|证件|證件"
)
_NEG_CLAUSE = re.compile(
    r"(?:\b(?:no|not|don't|do not|never|cannot|can't|won't|without|isn't|aren't|doesn't)\b|"
    r"不要|别|勿|禁止|没有|沒有|无需|無需|不会|不會|不需要|no hay|sin)[^.!?;。！？；]*$"
)

RULES: tuple[PhraseRule, ...] = (
    # rule SCR-2 — asking for the buyer's personal information
    PhraseRule(
        "SCR-2",
        "personal_info_request",
        "asks for the buyer's personal information",
        _r(
            rf"\b(?:send|give|tell|provide|share|text|dm|pass|need|want|confirm|verify)\b(?: me| us)?[^.!?\n]{{0,25}}?\byour\b(?! registered| account)[^.!?\n]{{0,12}}?\b(?:{_PII})\b",
            rf"\b(?:what'?s|what is|can i (?:get|have)|may i (?:get|have)|i need)\s+your\s+"
            rf"(?:{_PII})\b",
            rf"\bphoto of your (?:{_PII}|id|face)\b",
            r"\b(?:log ?in|sign ?in)\b[^.!?\n]{0,15}\bwith your\b[^.!?\n]{0,20}"
            r"(?:banking|password|credentials|details)",
            rf"(?:发|發|提供|告诉|告訴|给我|給我|留|报|報|填)\s*(?:一下|下)?\s*(?:您|你)的?[^。！？\n]{{0,6}}(?:{_ZH_PII})",
            rf"(?:把|將|将)\s*(?:您|你)的[^。！？\n]{{0,12}}(?:{_ZH_PII})[^。！？\n]{{0,12}}(?:发|發|给|給|告诉)",
            rf"(?:您|你)的\s*(?:{_ZH_PII})\s*(?:号|號)?\s*(?:是多少|是什么|是什麼|多少)",
            r"\b(?:pasas|das|envías|mandas|dime|necesito|proporciona|facilita)\b(?:me)?\s+(?:tu|su)\s+"
            r"(?:número|numero|correo|dirección|direccion|nombre|dni|teléfono|telefono|tarjeta|cuenta)",
        ),
        anchors=_w(
            "name phone mobile cell email e mail address birth dob birthday ssn social id license licence passport maiden bank card cvv pin password banking login credentials details whatsapp wechat personal face info número numero correo dirección direccion nombre dni teléfono telefono tarjeta cuenta"
        ),
    ),
    # rule SCR-3 — extra fees of any kind
    PhraseRule(
        "SCR-3",
        "extra_fee",
        "asks for an extra fee",
        _r(
            r"(?:[$€£¥]\s?\d[\d.,]*|\d[\d.,]*\s?(?:%|dollars?|usd|bucks))[^.!?\n]{0,25}?\b(?:handling|"
            r"restocking|restock|return|exchange|shipping|service|processing|packaging|stocking|"
            r"warranty|remote|rush|extra|additional|surcharge)\b[^.!?\n]{0,10}?\b(?:fee|charge|cost|"
            r"extra|off the refund)s?\b",
            r"\b(?:handling|restocking|restock|return|exchange|processing|packaging|stocking|service|"
            r"remote[- ]area|extended[- ]warranty|warranty)\s+(?:fee|charge|surcharge)s?\b"
            r"[^.!?\n]{0,25}?(?:[$€£¥]\s?\d|\d\s?%|\bpay\b|\bcharged?\b|\bof\b\s*[$€£¥]?\d)",
            r"\b(?:fee|charge|surcharge)s?\s+(?:of|is|are|will be)\s+[$€£¥]?\s?\d",
            r"\b(?:need|pay|send|add|cost|costs|it'?s)\s+(?:me\s+)?(?:an?\s+)?(?:extra|additional)\s+"
            r"[$€£¥]?\s?\d",
            r"[$€£¥]\s?\d[\d.,]*\s+(?:extra|more)\b",
            r"\breturn shipping is on you\b|\byou (?:pay|cover) (?:the )?(?:return )?shipping\b",
            r"\bprices? (?:went|have gone|has gone|is going) up\b[^.!?\n]{0,40}\b(?:extra|pay|more)\b",
            r"(?:补|補|加收|另收|额外收|額外收|多收|另付|加付|收取?)\s*\d*\s*(?:元|块|塊)?\s*(?:的)?"
            r"(?:运费|運費|邮费|郵費|yun费|差价|差價|手续费|手續費|服务费|服務費|包装费|包裝費|费用|費用)",
            r"(?:运费|運費|邮费|郵費|yun费)(?!险|險)[^。！？\n]{0,6}(?:补|補|加|付|自理|自付|承担|承擔)",
            r"(?:扣|收)[^。！？\n]{0,8}(?:手续费|手續費|服务费|服務費|折旧费|折舊費|%)",
            r"(?:延保|保修费|保修費|涨价|漲價|加价|加價)[^。！？\n]{0,10}(?:元|块|付|补|補)",
            r"\b(?:pagar|cobrar|cuesta|cobramos)\b[^.!?\n]{0,30}\b(?:de envío|de envio|comisión|cargo|"
            r"tarifa|extra|adicional)",
        ),
        anchors=_w(
            "fee fees charge charges surcharge extra additional shipping prices price cost costs restocking pagar cobrar cuesta cobramos off"
        ),
    ),
    # rule SCR-4 — offline returns or refunds
    PhraseRule(
        "SCR-4",
        "offline_refund",
        "offers a refund outside the platform",
        _r(
            r"\brefund (?:you |it )?(?:myself|directly|personally|privately|outside|off[- ](?:the )?"
            r"(?:app|platform))",
            r"\b(?:send|give|transfer|pay|return)\b (?:you )?(?:the |your )?(?:money|refund|cash|"
            r"payment)(?: back)?(?: to you)? (?:directly|myself|privately|personally|outside)",
            r"\b(?:withdraw|cancel|close|drop|retract)\s+(?:the|your)\s+(?:refund|return|dispute|claim)"
            r"(?:\s+request)?\b",
            r"\b(?:skip|no need to open|don't open|do not open|without)\s+(?:the\s+|a\s+)?(?:platform\s+|"
            r"app\s+)?(?:return|refund|dispute)",
            r"\b(?:mail|send|ship) it back\b[^.!?\n]{0,30}\brefund you\b",
            r"\brefund you\b[^.!?\n]{0,20}\b(?:outside|off)\b",
            r"\b(?:in[- ]store|at (?:the|our) store) (?:return|refund|exchange)s?\b",
            r"(?:私下|线下|線下)[^。！？\n]{0,6}(?:退|把钱|把錢|给您转|給您轉|转给您|轉給您)",
            r"(?:退|kuan|钱|錢)[^。！？\n]{0,6}(?:私下|线下|線下)",
            r"(?:退|kuan)[^。！？\n]{0,20}(?:不用|别|別|不要|不必|不)\s*走\s*(?:平台|pt|平臺)|"
            r"(?:不用|别|別|不要|不必|不)\s*走\s*(?:平台|pt|平臺)[^。！？\n]{0,6}退",
            r"(?:撤销|撤銷|撤回|取消|关闭|關閉)\s*(?:一下)?\s*(?:退款|售后|售後|退货|退貨|纠纷|糾紛)\s*(?:申请|申請)?",
            r"(?:寄回|退回)[^。！？\n]{0,12}(?:线下|線下|私下)",
            r"(?:现场|現場|门市|門市|到店|门店|門店)\s*(?:退换|退換|退货|退貨|退款)",
            r"\b(?:por fuera de|fuera de) (?:la app|la plataforma)|\bno abras (?:la|una) (?:devolución|"
            r"disputa|reclamación)",
        ),
        negatable=False,
        anchors=_w(
            "refund money cash payment withdraw cancel close drop retract skip open without return returns refunds exchange exchanges dispute claim store fuera abras"
        ),
    ),
    # rule SCR-5 — asking the buyer to cancel
    PhraseRule(
        "SCR-5",
        "cancel_request",
        "asks the buyer to cancel the order",
        _r(
            r"\b(?:could|can|would|will)\s+you\s+(?:please\s+|kindly\s+|just\s+)*(?:hit\s+)?cancel\b"
            r"(?!\s+(?:my|our)\b)",
            r"\bplease\s+(?:just\s+)?cancel\s+(?:the|your|this)\s+order\b",
            r"\b(?:if|when)\s+you\s+cancel\b[^.!?\n]{0,25}\b(?:yourself|on your (?:side|end)|we avoid|"
            r"penalty)",
            r"\bcancel\b[^.!?\n]{0,15}\bon your (?:side|end)\b",
            r"\bwould you mind cancel(?:l)?ing\b",
            r"(?:麻烦|麻煩|请|請|可以|能不能|能否|帮忙|幫忙)\s*(?:您|你|亲|親)?\s*(?:自己|先)?\s*"
            r"(?:申请|申請)?\s*(?:取消|qu消|取xiao)",
            r"(?:您|你)\s*(?:先|自己)?\s*把\s*(?:这|這|那)?\s*(?:单|單|订单|訂單)\s*(?:先)?\s*取消",
            r"(?:取消|qu消)\s*(?:一下)?\s*(?:订单|訂單|这单|這單)\s*(?:吧|哈|呗|唄|嗎|吗|好吗|好嗎)",
            r"\b(?:podrías|puedes|podría|puede|podrias)\s+cancelar\b|\bcancela (?:el|tu) pedido\b",
        ),
        anchors=_w("cancel cancelling canceling cancelar cancela"),
    ),
    # rule SCR-7 — review manipulation
    PhraseRule(
        "SCR-7",
        "review_removal",
        "asks to remove or change a review",
        _r(
            r"\b(?:remov|delet|take down|taking down|chang|edit|updat|modif|revis|withdraw|retract)"
            r"\w*\s+"
            r"(?:your|the|that|this|it)?\s*(?:\d[- ]star\s+|negative\s+|bad\s+|low\s+)?"
            r"(?:review|rating|feedback)",
            r"\b(?:change|update)\s+(?:it|your review)\s+to\s+(?:5|five)",
            r"(?:删|刪|删除|刪除|撤|改|修改|追评改)(?:掉|了|一下)?[^。！？\n]{0,4}(?:差评|差評|评价|評價|中评|中評)",
            r"(?:差评|差評|中评|中評)[^。！？\n]{0,6}(?:删|刪|改|撤)",
            r"\b(?:borra|elimina|cambia|quita|modifica)\s+(?:tu|la)\s+(?:reseña|opinión|valoración)",
        ),
        negatable=False,
        anchors=_w("review reviews rating feedback reseña opinión valoración"),
    ),
)

# rule SCR-7 — incentive for a review: review term and reward term in one message
_REVIEW_TERM = _r(
    r"\b(?:\d|one|two|three|four|five)[\s-]*(?:star|stars|⭐)",
    r"⭐",
    r"\b(?:positive|good|great|nice|glowing|honest|5-star|five-star|your|a|us a)\s+"
    r"(?:review|rating|feedback)\b",
    r"\bleave\b[^.!?\n]{0,10}\b(?:review|rating|feedback)\b",
    r"\bin your review\b|\breview (?:for|=)",
    r"好评|好評|五星|5星|hp|晒图|曬圖|评价|評價|estrellas|reseña|opinión positiva|valoración",
)
_REWARD_TERM = _r(
    r"\b(?:refund|pay|send|give|transfer)\s+you\b[^.!?\n]{0,10}(?:[$€£¥]\s?\d|\d+\s?(?:dollars|usd))",
    r"[$€£¥]\s?\d[\d.]*\s*(?:back|refund|cash)?",
    r"\bgift ?cards?\b|\brebate\b|\breimburs|\bcompensat|\bcash ?back\b|\bmoney back\b|"
    r"\bfree (?:gift|item|product)\b|\bcoupon\b|\bvoucher\b|\bdiscount\b|\bfull refund\b|% off\b",
    r"返现|返現|返xian|红包|紅包|补偿|補償|返\s*\d|送\S{0,4}(?:礼|禮|券)|\d\s*折|优惠券|優惠券|"
    r"\d+\s*(?:元|块|塊)",
    r"te devolvemos|reembols|regalo|descuento|\bdólares\b",
)
# rule SCR-6 — promotion outside the platform: a deal term and an off-platform term
_DEAL_TERM = _r(
    r"\b\d+\s?% off\b|\b\d+% discount\b|\bdiscount\b|\bcheaper\b|\blower price\b|\bspecial price\b|"
    r"\bwholesale\b|\bfree shipping\b|\bknock\b[^.!?\n]{0,10}\boff\b|\bbulk price|\bbetter price\b|"
    r"\b[$€£]\s?\d[\d.]*\s*each\b",
    r"便宜|优惠|優惠|打\s*\d*\s*折|[一二三四五六七八九\d]\s*折|低价|低價|更低|批发|批發|拿货价|拿貨價|包邮|包郵|免运费|免運費",
    r"descuento|más barato|mas barato|rebaja|envío gratis|precio especial|al por mayor",
)
_OFFSITE_TERM = _r(
    r"\bprivately\b|\bin private\b|\bdirectly\b|\boff (?:the )?(?:app|platform|site)\b|"
    r"\bskip (?:the )?(?:app|platform)\b|\boutside (?:the |of the )?(?:app|platform)\b|"
    r"\b(?:our|my) (?:own )?(?:website|web ?site|site|web ?store|physical store|retail store|"
    r"outlet|store in)\b|\bown (?:website|site|store)\b|\bmessage me\b|\bdm me\b|\bpaypal\b|"
    r"\bvenmo\b|\bzelle\b|\bcash ?app\b|\bcome by\b|\binstead\b",
    r"私聊|私下|不走平台|不走pt|线下|線下|加我|微信|vx|v信|转我|轉我|直接转|支付宝|支付寶|实体店|實體店|官网|官網|"
    r"比拍下|比平台",
    r"por fuera|directamente|bizum|en privado|whatsapp",
)
# rule SCR-8 — abuse
ABUSE = PhraseRule(
    "SCR-8",
    "abuse",
    "abusive or unprofessional language",
    _r(
        r"\b(?:you|you're|youre|ur|u|are you|you are|such an?|what an?|listen you)\s+(?:\w+\s+)?"
        r"(?:stupid|idiot|idiots|moron|morons|dumb|retard|retarded|brainless|useless|pathetic|"
        r"loser|clown|dumbass|imbecile|scum)\b",
        r"\b(?:idiot|moron|imbecile|dumbass|asshole|bitch|bastard|cunt|dickhead|jackass|retard|"
        r"scammers|fuck\w*|f\*+(?:k|ck)?|f\*ck\w*|sh\*t|shit|stfu|wtf|piss off|screw you)\b",
        r"\bshut (?:the )?(?:f\S*|hell )?\s*up\b",
        r"\bi know where you live\b|\bsee what happens\b|\bi(?:'ll| will)\s+(?:kill|hurt|find|beat|"
        r"smash|destroy|ruin|come to|make your life)|\bmake your life hell\b|\bburns? down\b|"
        r"\byou(?:'ll| will) regret\b|\bwatch your back\b|\bkill (?:you|yourself)\b",
        r"\b(?:you look|you're|you are)\s+(?:so\s+)?(?:hot|sexy)\b|\bpic(?:ture)? of you\b|\bnudes?\b|"
        r"\bsexy\b",
        r"傻逼|傻b|傻x|傻屄|煞笔|沙比|(?<![a-z])sb(?![a-z])|脑子有病|腦子有病|脑残|腦殘|白痴|白癡|弱智|智障|"
        r"神经病|神經病|废物|廢物|贱人|賤人|滚(?:蛋|开|開|出去|吧|[，,。！!\s]|$)|滾(?:蛋|開|出去|吧|[，,。！!\s]|$)|"
        r"去死|不得好死|全家死|他妈|他媽|tmd|尼玛|尼瑪|操你|草泥马|垃圾(?!袋|桶|分类|分類|处理|處理|箱|车|車)|"
        r"(?:你|您)?地址我[^。！？\n]{0,4}知道|知道你(?:家|住)|弄死|砍死|天天来骂|天天來罵|骂死|"
        r"开不下去|開不下去|你试试|你試試|骗子|騙子",
        r"\b(?:idiota|estúpido|estupido|imbécil|imbecil|pendejo|cabrón|cabron|mierda|gilipollas|"
        r"te voy a (?:matar|buscar|denunciar))\b",
    ),
    negatable=False,
)
# rule SCR-9 — illegal goods, gambling, fraud, defamation
ILLEGAL = PhraseRule(
    "SCR-9",
    "illegal",
    "prohibited goods, fraud or defamation",
    _r(
        r"\b(?:1:1|aaa|mirror|top[- ]grade|high[- ]grade|super ?fake)\s+(?:replica|copy|copies|fake)",
        r"\breplicas?\s+of\b|\b(?:are|is|they're|it's|these are|all)\s+(?:a\s+)?(?:fakes?|copies|"
        r"replicas?|knock-?offs?|counterfeits?|bootlegs?)\b(?!\s+of\s+(?:the|your)\s+(?:invoice|"
        r"receipt|order|document))",
        r"\bserial (?:numbers?|nos?) (?:are |is )?(?:cloned|copied|faked)|\bcloned\b|"
        r"\bpass (?:the )?(?:brand'?s )?(?:check|authentication|verification)",
        r"\b(?:cracked|pirated|nulled|keygen)\b[^.!?\n]{0,20}\b(?:adobe|windows|office|software|"
        r"licen[cs]es?|keys?|accounts?|apps?|games?)",
        r"\b(?:tramadol|oxycodone|oxycontin|xanax|adderall|fentanyl|cocaine|meth|mdma|ketamine|"
        r"percocet|codeine)\b|\bno (?:rx|prescription)\b|\bwithout (?:a )?prescription\b",
        r"\bbet(?:ting)? on\b|\bcasino\b|\bpayout\b|\bsports ?book\b|\bgambl\w*",
        r"\b(?:they|he|she|owner|shop|seller|store|next door)\b[^.!?\n]{0,40}\b(?:sells?|selling)\s+"
        r"(?:fakes|counterfeits|knock-?offs)|\b(?:fraudster|known scammer|crook|criminal)s?\b",
        r"\b(?:log ?in|sign ?in)\b[^.!?\n]{0,15}\bwith your\b[^.!?\n]{0,20}(?:banking|password)",
        r"\b(?:fake|forged)\s+(?:invoices?|receipts?|ids?|documents?|reviews?)\b",
        r"高仿|a货|a貨|仿品|复刻|復刻|精仿|假货|假貨|代开[^。！？\n]{0,6}发票|代開[^。！？\n]{0,6}發票|发票代开|"
        r"刷单|刷單|赌|賭|博彩|下注|百家乐|百家樂|坐过牢|坐過牢|破解版|盗版|盜版|毒品|枪支|槍支",
        r"\bréplica|\bfalsificad|\bpirata\b|\bapuestas?\b",
    ),
    negatable=False,
    anchors=_w(
        "replica replicas copy copies fake fakes knock knockoff knockoffs counterfeit counterfeits bootleg bootlegs serial cloned pass cracked pirated nulled keygen tramadol oxycodone oxycontin xanax adderall fentanyl cocaine meth mdma ketamine percocet codeine rx prescription bet betting casino payout sportsbook sports gamble gambling gambler fraudster fraudsters scammer crook crooks criminal criminals forged log login sign signin réplica falsificado falsificados pirata apuesta apuestas sells selling aaa mirror grade"
    ),
)
# rule SCR-10 — misleading claims
MISLEADING = PhraseRule(
    "SCR-10",
    "misleading",
    "promise that contradicts the listing",
    _r(
        r"\b(?:listing|page|photos?|pictures?|description|product page|label|ad|site|it)\s+"
        r"(?:says?|said|shows?|states?|lists?)\b[^.!?\n]{0,50}\b(?:but|however|actually)\b",
        r"\b(?:but|actually|in fact|honestly|trust me)\b[^.!?\n]{0,30}\b(?:brand new|genuine|"
        r"real leather|original|pure gold|solid gold|\d+[- ]years?(?: warranty)?|waterproof|swim)",
        r"\b(?:cheapest|lowest|best) price (?:anywhere|guaranteed|in the (?:world|market)|online)|"
        r"\bdouble the difference\b|\bprice match guarantee\b",
        r"\b(?:cures?|heals?)\s+(?:\w+\s+){0,2}(?:in|within)\s+\d+\s+days\b|\b100% (?:cure|effective)\b",
        r"(?:页面|頁面|详情|詳情|图片|圖片|描述|标题|標題)(?:上)?(?:写|寫|显示|顯示|标|標)的?是[^。！？\n]{0,12}"
        r"(?:其实|其實|实际|實際|但)",
        r"(?:其实|其實|实际上|實際上)是[^。！？\n]{0,6}(?:纯金|純金|正品|真皮|全新|原装|原裝)",
        r"根治|包治|治愈|治癒|药到病除|藥到病除|比药还|比藥還|永不|百分百有效",
        r"\b(?:en la página|el anuncio|la foto|la descripción) dice\b[^.!?\n]{0,50}\bpero\b",
    ),
    negatable=False,
    anchors=_w(
        "says said shows show states lists list but actually fact honestly trust cheapest lowest best double price cure cures heals heal 100 dice pero"
    ),
)
# rule SCR-11 — unsolicited marketing / repeated advertising
_SPAM_STRONG = _r(
    r"\b(?:mega|flash|big|huge|clearance|summer|winter|black friday)\s+(?:sale|deals?)\b|"
    r"\btoday only\b|\bdon'?t miss(?: out| it)?\b|\bshop now\b|\bbuy now\b|\bhurry\b|"
    r"\bcheck out our\b|\bnew (?:arrivals|collection|products)\b|\bjust dropped\b|"
    r"\bfollow (?:our|the|my) (?:shop|store|page)\b|\bfollow now\b|\bgiveaways?\b|"
    r"\blive ?stream\b|\bhaven'?t shopped\b|\blimited time\b|\bact now\b|\byou(?:'ve| have) won\b|"
    r"\bclaim your (?:prize|reward|gift)\b|\bcongratulations\b|\bfree entry\b|\btxt\b|"
    r"\bclick here\b|\bcall now\b|\bwinner\b|\bprize\b",
    r"大促|全场|全場|低至|折起|抢购|搶購|新品上市|关注店铺|關注店鋪|领券|領券|无门槛|無門檻|下殺|下杀|"
    r"全館|全馆|双11|雙11|双十一|雙十一|618|现在不买|現在不買|赶紧下单|趕緊下單|快来|快來|限时|限時|秒杀|秒殺",
    r"\bno te pierdas\b|\bsigue nuestra tienda\b|\bnuevas ofertas\b|\bofertas? cada día\b|"
    r"\bsolo hoy\b|\bcompra ya\b",
)
_SPAM_WEAK = _r(
    r"\bsale\b|\b\d+% off\b|\bdeals?\b|\bdiscounts?\b|\bfree\b(?! to\b)|!{2,}|🔥|🎉|\bofertas?\b",
    r"满\d+减\d+|滿\d+減\d+|折|优惠|優惠|！{2,}|!{2,}|～",
)
EXTORTION = PhraseRule(
    "SCR-8",
    "extortion",
    "demands a refund or discount under threat",
    _r(
        r"\b(?:refund|discount|compensat\w*|money back)\b[^.!?\n]{0,40}\bor (?:else|i(?:'ll| will))\b",
        r"\bor i(?:'ll| will) (?:leave|post|give) (?:you )?(?:a )?(?:1|one|bad|negative)",
        r"(?:不给|不給|不退)[^。！？\n]{0,10}(?:就|我就)[^。！？\n]{0,10}(?:差评|差評|投诉|投訴|骂|罵|曝光)",
    ),
    negatable=False,
)


_ABUSE_ANCHORS = _w(
    "stupid idiot idiots moron morons dumb retard retarded brainless useless pathetic loser clown "
    "dumbass imbecile scum asshole bitch bastard cunt dickhead jackass scammers shit stfu wtf piss "
    "screw shut live happens kill hurt find beat smash destroy ruin come make hell burn burns "
    "regret back die hot sexy pic picture nude nudes idiota estúpido estupido imbécil imbecil "
    "pendejo cabrón cabron mierda gilipollas voy"
)
_REVIEW_ANCHORS = _w(
    "star stars review reviews rating feedback leave estrellas reseña opinión valoración hp"
)
_DEAL_ANCHORS = _w(
    "off discount cheaper lower special wholesale free knock bulk better each descuento barato "
    "rebaja envío precio mayor"
)


def _find(rule: PhraseRule, norm: Normalised, anchored: bool = False) -> list[Finding]:
    """``anchored``: apply the rule's word prefilter (seller messages)."""
    hits = norm.plain_hits
    if rule.pattern.gid not in hits.ok:
        return []  # (checked first: cheaper than the word prefilter)
    if anchored and rule.anchors is not None and not rule.anchors.holds(hits):
        return []
    p = norm.plain
    out = []
    for m in rule.pattern.finditer(p.text, hits):
        if rule.negatable and _NEG_CLAUSE.search(p.text[max(0, m.start() - 40) : m.start()]):
            continue
        a, b = p.span(*m.span())
        out.append(Finding(rule.rule, rule.kind, a, b, norm.original[a:b], rule.reason))
    return out


def _cooccur(
    norm: Normalised,
    first: Gated,
    second: Gated,
    rule: str,
    kind: str,
    reason: str,
) -> list[Finding]:
    p = norm.plain
    m1 = first.search(p.text, norm.plain_hits)
    if not m1:
        return []
    m2 = second.search(p.text, norm.plain_hits)
    if not m2:
        return []
    for m in (m1, m2):
        if _NEG_CLAUSE.search(p.text[max(0, m.start() - 30) : m.start()]):
            return []
    i, j = min(m1.start(), m2.start()), max(m1.end(), m2.end())
    a, b = p.span(i, j)
    return [Finding(rule, kind, a, b, norm.original[a:b], reason)]


_SEGMENT = re.compile(r"\s*[,，、.。!！?？;；~～\n]+\s*")


_SEPARATORS = str.maketrans(dict.fromkeys(",，、.。!！?？;；~～", "\n"))
_SEPARATORS_ASCII = bytes(10 if chr(c) in ",.!?;~" else c for c in range(256))
# what ``str.strip`` removes from ASCII text (``bytes.strip`` alone keeps \x1c-\x1f)
_ASCII_SPACE = "".join(c for c in PY_SPACE_CHARS if c.isascii()).encode()


_S = TypeVar("_S", str, bytes)


def _thrice(pieces: list[_S]) -> bool:
    """Some piece of >= 6 characters occurs three times or more."""
    if len(pieces) - len(set(pieces)) < 2:
        return False  # (most texts: two repeats are needed, of any length)
    long = [p for p in pieces if len(p) >= 6]
    return len(long) - len(set(long)) >= 2 and max(map(long.count, long)) >= 3


def _repeated(t: str) -> bool:
    """The same phrase (>= 6 characters) three times or more: repeated advertising."""
    # Quick necessary condition (speed): a segment is the text between separator runs,
    # stripped of spaces (only the text's own first/last segment may keep outer spaces, and
    # three equal segments include an inner one), so it needs a stripped piece between
    # separators that is >= 6 characters long and occurs three times — hence two repeats
    # among the non-empty stripped pieces, counted without a Python-level loop (map,
    # filter, set); most texts stop there. (ASCII text, most messages, as bytes: faster.)
    if t.isascii():
        raw = t.encode().translate(_SEPARATORS_ASCII).split(b"\n")
        if not _thrice(list(filter(None, map(bytes.strip, raw, repeat(_ASCII_SPACE))))):
            return False
    elif not _thrice(list(filter(None, map(str.strip, t.translate(_SEPARATORS).split("\n"))))):
        return False
    segs = [s for s in _SEGMENT.split(t) if len(s) >= 6 and "{{" not in s]
    return len(segs) >= 3 and max(segs.count(s) for s in set(segs)) >= 3


def _spam(norm: Normalised) -> list[Finding]:
    t = norm.plain.text
    strong = list(_SPAM_STRONG.finditer(t, norm.plain_hits))
    if not strong and not _repeated(t):
        return []
    weak = list(_SPAM_WEAK.finditer(t, norm.plain_hits))
    if _repeated(t) or len(strong) + len(weak) >= 2:
        a, b = norm.plain.span(0, len(t))
        return [Finding("SCR-11", "spam", a, b, norm.original[a:b], "unsolicited advertising")]
    return []


_RULES_GROUP = GATE.group(r.pattern.gid for r in RULES)
# a co-occurrence needs both terms (the gate first: cheaper than the word prefilter)
_REVIEW_PAIR = GATE.group([_REVIEW_TERM.gid, _REWARD_TERM.gid])
_DEAL_PAIR = GATE.group([_DEAL_TERM.gid, _OFFSITE_TERM.gid])


def detect_phrases(norm: Normalised, *, sender: str) -> list[Finding]:
    """Phrase findings for one message. Buyers: abuse, extortion, advertising only (SCR-12)."""
    out: list[Finding] = []
    t = norm.plain.text
    hits = norm.plain_hits
    if sender == "buyer":
        out += _find(ABUSE, norm)
        out += _find(EXTORTION, norm)
        out += _spam(norm)
        return out
    if hits.any_possible(_RULES_GROUP):
        for rule in RULES:
            out += _find(rule, norm, anchored=True)
    if hits.ok >= _REVIEW_PAIR and _REVIEW_ANCHORS.holds(hits):
        out += _cooccur(
            norm,
            _REVIEW_TERM,
            _REWARD_TERM,
            "SCR-7",
            "review_incentive",
            "offers a reward for a review",
        )
    if hits.ok >= _DEAL_PAIR and _DEAL_ANCHORS.holds(hits):
        out += _cooccur(
            norm,
            _DEAL_TERM,
            _OFFSITE_TERM,
            "SCR-6",
            "offsite_promotion",
            "offers a deal outside the platform",
        )
    if ABUSE.pattern.gid in hits.ok and (_ABUSE_ANCHORS.holds(hits) or "*" in t or "fuck" in t):
        out += _find(ABUSE, norm)
    out += _find(ILLEGAL, norm, anchored=True)
    out += _find(MISLEADING, norm, anchored=True)
    out += _spam(norm)
    return out
