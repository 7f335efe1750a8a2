"""Static catalogue of the demo marketplace: regions, shops, teams, products and chat phrases."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any

PASSWORD = "demo"


@dataclass(frozen=True)
class RegionSpec:
    code: str
    name: str
    country: str
    policy: str


REGIONS = (
    RegionSpec("US", "United States", "US", "us"),
    RegionSpec("UK", "United Kingdom", "GB", "us"),
    RegionSpec("CN-XB", "China cross-border", "CN", "cross-border"),
)


@dataclass(frozen=True)
class ProductSpec:
    title: str
    language: str
    price_cents: int
    terms: dict[str, Any]


@dataclass(frozen=True)
class ShopSpec:
    name: str
    region: str
    timezone: str
    language: str
    currency: str
    greeting: str
    # (weekday, opens, closes) — several windows per weekday, shop-local (CHAT-4).
    hours: tuple[tuple[int, time, time], ...]
    team: tuple[tuple[str, str, str], ...]  # (username, role, display name)
    products: tuple[ProductSpec, ...]
    # Probability that a session's first human reply is late (> 24 h) — shapes the metrics.
    late_share: float
    never_share: float
    star_weights: tuple[int, int, int, int, int]
    extra: dict[str, Any] = field(default_factory=dict)


def _windows(days: range | tuple[int, ...], *spans: tuple[int, int, int, int]) -> list[
    tuple[int, time, time]
]:
    return [(d, time(a, b), time(c, e)) for d in days for a, b, c, e in spans]


_US_TERMS = {"cancel_before_shipping": True, "return_days": 30, "refund_days": 7,
             "return_shipping": "seller"}
_UK_TERMS = {"cancel_before_shipping": True, "return_days": 14, "refund_days": 14,
             "return_shipping": "buyer"}
_XB_TERMS = {"cancel_before_shipping": True, "return_days": 7, "refund_days": 10,
             "return_shipping": "buyer"}

SHOPS = (
    ShopSpec(
        name="Pacific Home & Kitchen",
        region="US",
        timezone="America/Los_Angeles",
        language="en",
        currency="USD",
        greeting="Hi, thanks for stopping by Pacific Home & Kitchen! We answer Mon–Fri 8am–6pm "
        "and Saturday 10am–2pm (Pacific time). Ask away.",
        hours=tuple(
            _windows(range(0, 5), (8, 0, 12, 0), (13, 0, 18, 0))
            + _windows((5,), (10, 0, 14, 0))
        ),
        team=(
            ("owner1", "owner", "Maria Alvarez"),
            ("admin1", "admin", "Kevin O'Brien"),
            ("agent1", "agent", "Jasmine Lee"),
            ("agent2", "agent", "Tyler Brooks"),
        ),
        products=(
            ProductSpec("Cast-iron skillet, 12 inch, pre-seasoned", "en", 3999, _US_TERMS),
            ProductSpec("Bamboo cutting board set (3 pieces)", "en", 2499, _US_TERMS),
            ProductSpec("Pour-over coffee kettle, gooseneck, 1 L", "en", 4599, _US_TERMS),
            ProductSpec("Linen table runner, sage green, 72 inch", "en", 1899,
                        {**_US_TERMS, "return_days": 14}),
            ProductSpec("Stainless steel mixing bowls (5-piece nest)", "en", 3299, _US_TERMS),
            ProductSpec("Ceramic dinner plates, set of 4, matte white", "en", 5499,
                        {**_US_TERMS, "return_shipping": "buyer"}),
        ),
        late_share=0.04,
        never_share=0.03,
        star_weights=(3, 4, 9, 30, 54),
    ),
    ShopSpec(
        name="Thistle & Thread",
        region="UK",
        timezone="Europe/London",
        language="en",
        currency="GBP",
        greeting="Hello from Thistle & Thread! Our small team replies weekdays 9:00–17:30 UK "
        "time. Tell us your order number if you have one.",
        hours=tuple(_windows(range(0, 5), (9, 0, 12, 30), (13, 30, 17, 30))),
        team=(
            ("owner2", "owner", "Fiona MacLeod"),
            ("admin2", "admin", "Oliver Bennett"),
            ("agent3", "agent", "Priya Sharma"),
            ("agent4", "agent", "Tom Whitaker"),
        ),
        products=(
            ProductSpec("Merino wool scarf, heather grey", "en", 3800, _UK_TERMS),
            ProductSpec("Hand-knitted cable jumper, oatmeal, size M", "en", 8900,
                        {**_UK_TERMS, "cancel_before_shipping": False}),
            ProductSpec("Tweed flat cap", "en", 2950, _UK_TERMS),
            ProductSpec("Lambswool blanket, tartan, 140×180 cm", "en", 7400, _UK_TERMS),
            ProductSpec("Knitting starter kit with bamboo needles", "en", 2400,
                        {**_UK_TERMS, "return_days": 30}),
        ),
        late_share=0.07,
        never_share=0.05,
        star_weights=(6, 7, 14, 33, 40),
    ),
    ShopSpec(
        name="Jade Lantern Tea House 玉灯茶舍",
        region="CN-XB",
        timezone="Asia/Shanghai",
        language="zh",
        currency="USD",
        greeting="您好，欢迎光临玉灯茶舍！客服时间：周一至周六 9:00–22:00，周日 10:00–16:00"
        "（北京时间）。Hello! We ship worldwide from Hangzhou.",
        hours=tuple(
            _windows(range(0, 6), (9, 0, 12, 0), (13, 30, 18, 0), (19, 0, 22, 0))
            + _windows((6,), (10, 0, 16, 0))
        ),
        team=(
            ("owner3", "owner", "陈静 Chen Jing"),
            ("admin3", "admin", "王磊 Wang Lei"),
            ("agent5", "agent", "刘洋 Liu Yang"),
            ("agent6", "agent", "赵敏 Zhao Min"),
        ),
        products=(
            ProductSpec("西湖龙井 明前特级 100克", "zh", 3600, _XB_TERMS),
            ProductSpec("安溪铁观音 浓香型 250克", "zh", 2800, _XB_TERMS),
            ProductSpec("宜兴紫砂壶 西施壶 200毫升", "zh", 8800,
                        {**_XB_TERMS, "return_days": 15, "return_shipping": "seller"}),
            ProductSpec("云南普洱 熟茶饼 357克 (2018)", "zh", 4200, _XB_TERMS),
            ProductSpec("Celadon tea cup set (6 cups)", "en", 3900, _XB_TERMS),
            ProductSpec("Jasmine silver needle white tea, 50 g", "en", 2600, _XB_TERMS),
        ),
        late_share=0.08,
        never_share=0.04,
        star_weights=(3, 5, 10, 32, 50),
    ),
)

STAFF = ("staff1", "Dana Whitfield (Marketplace Trust & Safety)")

BUYERS = (
    "Emily Carter", "James Nguyen", "Sofia Rossi", "Michael Johnson", "Aisha Khan",
    "Daniel Kim", "Chloe Martin", "Lucas Silva", "Hannah Schmidt", "Noah Williams",
    "Grace Thompson", "Mateo García", "Olivia Brown", "Ethan Davis", "Isabella Moore",
    "李娜 Li Na", "张伟 Zhang Wei", "王芳 Wang Fang", "Ryan Murphy", "Zoe Anderson",
    "Benjamin Taylor", "Amelia Clarke", "William Harris", "Mia Robinson", "Jack Evans",
    "Harper Lewis", "黄晓明 Huang Xiaoming", "Ava Walker", "Samuel Wright", "Lily Chen",
)

FIRST = ("Alex", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn",
         "Rowan", "Sam", "Charlie", "Elena", "Marco", "Yuki", "Ines", "Omar", "Leila", "Tariq",
         "Nina", "Pedro", "Freya", "Hugo", "Anya", "Kofi", "Mei", "Ravi", "Sara", "Theo", "Maya")
LAST = ("Smith", "Patel", "Garcia", "Müller", "Okafor", "Johansson", "Dubois", "Kowalski",
        "Fernandes", "Tanaka", "Novak", "Hughes", "Reyes", "Larsen", "Costa", "Ahmed", "Brennan",
        "Ivanova", "Moreau", "Lindqvist", "Zhou", "Park", "O'Connor", "Bauer", "Singh")

# Occasional shoppers (not in the contract): they give the shops a believable volume.
EXTRA_BUYERS = 120


def extra_buyer_name(i: int) -> str:
    return f"{FIRST[(i * 7) % len(FIRST)]} {LAST[(i * 11 + i // 3) % len(LAST)]}"


# ------------------------------------------------------------------ closed dates (holidays)
def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    d = date(year, month, 1)
    d += timedelta(days=(weekday - d.weekday()) % 7)
    return d + timedelta(weeks=n - 1)


def _last_weekday(year: int, month: int, weekday: int) -> date:
    d = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return d - timedelta(days=(d.weekday() - weekday) % 7)


def holidays(region: str, year: int) -> list[tuple[date, str]]:
    if region == "US":
        return [
            (date(year, 1, 1), "New Year's Day"),
            (_last_weekday(year, 5, 0), "Memorial Day"),
            (date(year, 7, 4), "Independence Day"),
            (_nth_weekday(year, 9, 0, 1), "Labor Day"),
            (_nth_weekday(year, 11, 3, 4), "Thanksgiving"),
            (_nth_weekday(year, 11, 3, 4) + timedelta(days=1), "Day after Thanksgiving"),
            (date(year, 12, 25), "Christmas Day"),
        ]
    if region == "UK":
        return [
            (date(year, 1, 1), "New Year's Day"),
            (_nth_weekday(year, 5, 0, 1), "Early May bank holiday"),
            (_last_weekday(year, 5, 0), "Spring bank holiday"),
            (_last_weekday(year, 8, 0), "Summer bank holiday"),
            (date(year, 12, 25), "Christmas Day"),
            (date(year, 12, 26), "Boxing Day"),
        ]
    return [
        (date(year, 1, 1), "元旦 New Year's Day"),
        *((date(year, 5, d), "劳动节 Labour Day") for d in range(1, 4)),
        *((date(year, 10, d), "国庆节 National Day") for d in range(1, 8)),
    ]


# ------------------------------------------------------------------ chat phrases
# Each topic: (category, buyer question, bot answer, agent answer, buyer follow-up, agent reply)
Topic = tuple[str, str, str, str, str, str]

TOPICS_EN: tuple[Topic, ...] = (
    ("logistics", "Hi, when will my order ship? I need it before the weekend.",
     "Orders ship within 2 business days. You can follow the parcel under Orders → Track.",
     "I checked your order: it leaves our warehouse tomorrow morning and should arrive in "
     "3–4 days. I'll send the tracking number as soon as it's scanned.",
     "Great, can you make sure it's packed well? Last time the box was crushed.",
     "Of course — I've added a note for extra padding and a double box."),
    ("pre-sale", "Is this available in a larger size?",
     "Sizes and variants are listed on the product page under Options.",
     "Yes, the larger version is back in stock since Monday. I can reserve one for you if "
     "you order today.",
     "Is the colour exactly like the photos?",
     "The photos are taken in daylight; the real colour is a touch warmer. I can send a "
     "phone photo if that helps."),
    ("after-sale", "My order arrived damaged. What can I do?",
     "Sorry about that! You can request a return or refund from the order page.",
     "I'm really sorry. Please send a photo of the damage and we'll ship a replacement right "
     "away — no need to return the damaged one.",
     "Photo attached. Do I need to keep the packaging?",
     "Thanks for the photo. No need to keep it — the replacement is on its way, tracking "
     "follows by email."),
    ("after-sale", "I'd like to return this, it's not what I expected. How does it work?",
     "Returns are accepted within the period shown in the order's terms.",
     "No problem. Your order is within the return window; I've opened a return and the "
     "return label is on your order page. The refund is issued when the parcel is scanned.",
     "Do I get the shipping cost back as well?",
     "Per the terms on your order, return shipping is covered as shown there; the item "
     "price is refunded in full."),
    ("pre-sale", "It's a present — can you gift wrap it?",
     "Gift options are shown at checkout.",
     "Yes, we gift wrap for free on request: I've noted it, just leave the gift box ticked at "
     "checkout.",
     "Thanks. Do you have a discount if I buy two?",
     "We don't run bundle prices on this item right now, but shipping is free on larger "
     "orders."),
    ("logistics", "My tracking hasn't updated in 4 days. Is my parcel lost?",
     "Tracking can pause while the parcel is between carrier hubs.",
     "I contacted the carrier: the parcel is at the regional hub and should be delivered "
     "within 2 days. If it isn't, we'll resend it at our cost.",
     "OK, and if it arrives after my trip can I still return it?",
     "Yes, the return window starts at delivery, so you're covered."),
    ("other", "Can I change the delivery address on my order?",
     "Address changes are possible until the order ships.",
     "Done — I've updated the address on your order. It hasn't shipped yet, so it will go "
     "to the new address.",
     "Perfect. Can you also add a gift note?",
     "Sure, I've added the gift note and left the invoice out of the parcel."),
    ("after-sale", "I was charged twice for the same order.",
     "Payment questions are handled by the order team; a person will check this.",
     "I see two authorisations but only one was captured; the second will drop off your "
     "statement within 3–5 days. If it doesn't, tell me and I'll escalate it.",
     "It's still showing today. Are you sure?",
     "Yes — I've asked the payments team to release it manually as well, you'll get an "
     "email confirmation."),
)

TOPICS_ZH: tuple[Topic, ...] = (
    ("logistics", "你好，请问我的订单什么时候发货？",
     "您好，订单一般在付款后2个工作日内发货，可在订单页面查看物流。",
     "您好，已为您查询：订单明天上午从杭州仓发出，国际运输大约7–10天，单号出来后第一时间发给您。",
     "好的，可以帮我包装得结实一点吗？",
     "没问题，已备注加厚包装和防震泡沫。"),
    ("pre-sale", "这个现在有现货吗？多久能发？",
     "商品详情页有库存和发货时间信息。",
     "有现货的，今天下单明天就能从杭州仓发出。",
     "可以帮我写一张贺卡吗？是送人的。",
     "可以的，把祝福语发给我，我们手写在卡片上一起寄出。"),
    ("after-sale", "收到的商品有破损，怎么处理？",
     "很抱歉给您带来不便，您可以在订单页面申请退换货。",
     "非常抱歉！麻烦您拍一张破损的照片，我们马上给您补发一个新的，旧的不用寄回。",
     "照片已经发了，大概多久能收到？",
     "收到照片了，补发今天安排，预计10天左右送达，单号稍后发您。"),
    ("other", "可以开发票吗？",
     "发票问题将由人工客服为您处理。",
     "可以的，请把抬头和邮箱发给我，电子发票会在发货后发送到您的邮箱。",
     "好的，抬头是个人。",
     "收到，已为您备注个人发票。"),
)

TOPICS_EN_TEA: tuple[Topic, ...] = (
    ("logistics", "Hello, how long does shipping to the US take?",
     "International orders usually arrive in 7–12 days; tracking is on the order page.",
     "Hi! Your parcel goes out by air mail; to the US it's usually 8–10 days. We include "
     "all customs paperwork.",
     "Will I have to pay import duties?",
     "For orders under $800 there are normally no duties to the US."),
    ("pre-sale", "Is it packed well enough for international shipping?",
     "All international parcels are double-boxed.",
     "Yes — everything is double-boxed with foam, and if anything arrives broken we replace "
     "it free of charge.",
     "Can you include a gift note?",
     "Of course, send me the text and we'll handwrite it on a card."),
    ("after-sale", "I'd like to return this, can you help?",
     "Returns are accepted within the period shown in the order's terms.",
     "Sure — your order is within the return period. I've opened the return; the address "
     "and steps are on your order page, and the refund follows once we receive it.",
     "Who pays the return postage?",
     "Return postage is as stated in your order's terms; the item price is refunded in "
     "full."),
)

GREETINGS = {"en": ("Hi!", "Hello 👋", "Hi there!", "Hello!"),
             "zh": ("您好！", "亲，您好～", "在的！")}
WELCOME = {"en": "You're welcome! Have a great day.", "zh": "不客气，祝您生活愉快！"}
THANKS = {"en": ("Thanks!", "Thank you so much 🙏", "Great, thanks.", "👍"),
          "zh": ("谢谢！", "好的，谢谢～", "👍")}
NUDGES = {"en": ("Hello? Is anyone there?", "Any update on this please?"),
          "zh": ("在吗？", "请问有人吗？")}
ASK_PERSON = {"en": ("Can I talk to a real person please?", "That doesn't answer my question."),
              "zh": ("我想找人工客服。", "请转人工。")}
BOT_HANDOFF = {"en": "I'm handing you over to a member of our team, they'll reply shortly.",
               "zh": "正在为您转接人工客服，请稍候。"}
RATING_COMMENTS = {1: "Nobody answered for days.", 2: "Slow answers.", 3: "OK in the end.",
                   4: "Helpful, thanks.", 5: "Super friendly and fast!"}
TICKET_TEXTS = {"en": ("Please call me back about my order, nobody is online.",
                       "Left a message after hours — need to change my order before it ships."),
                "zh": ("客服不在线，请尽快联系我，订单需要修改地址。",)}
