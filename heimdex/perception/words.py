"""The words of what is seen, shared by the taggers and by query understanding.

One vocabulary for both sides, so that a query's appearance words ("a man in a red
shirt", "빨간 셔츠를 입은 남자") meet the tags that describe people: colours,
garments by body part, who a person is, counts. General English and Korean words;
nothing here knows a clip.
"""

from __future__ import annotations

COLOURS = ("black", "white", "grey", "red", "orange", "yellow", "green", "blue", "purple", "brown", "pink")
COLOUR_SYNONYMS = {"gray": "grey", "silver": "grey", "dark": "black", "navy": "blue", "teal": "green", "beige": "brown"}

# ImageNet labels (as the concepts model names them) → the garment word people type, and where it is worn.
GARMENTS: dict[str, tuple[str, str]] = {
    "cardigan": ("cardigan", "upper"),
    "sweatshirt": ("sweatshirt", "upper"),
    "jersey": ("t-shirt", "upper"),
    "suit": ("suit", "upper"),
    "lab coat": ("lab coat", "upper"),
    "apron": ("apron", "upper"),
    "trench coat": ("coat", "upper"),
    "fur coat": ("fur coat", "upper"),
    "poncho": ("poncho", "upper"),
    "kimono": ("kimono", "upper"),
    "abaya": ("robe", "upper"),
    "academic gown": ("gown", "upper"),
    "military uniform": ("uniform", "upper"),
    "bulletproof vest": ("vest", "upper"),
    "pajama": ("pajamas", "upper"),
    "jean": ("jeans", "lower"),
    "miniskirt": ("skirt", "lower"),
    "overskirt": ("skirt", "lower"),
    "hoopskirt": ("skirt", "lower"),
    "sarong": ("skirt", "lower"),
    "swimming trunks": ("swim shorts", "lower"),
}
# Worn things the concepts model sees on a person, and the phrase after "with"/"wearing" (glasses are read on the
# head: heimdex.perception.wear).
WORN = {
    "Windsor tie": "tie",
    "bow tie": "bow tie",
    "crash helmet": "helmet",
    "football helmet": "helmet",
    "cowboy hat": "hat",
    "sombrero": "hat",
    "backpack": "backpack",
    "stole": "scarf",
}
UPPER_WORDS = ("top", "shirt", "t-shirt", "sweater", "sweatshirt", "cardigan", "jacket", "coat", "hoodie", "blouse")
UPPER_WORDS += ("vest", "suit", "jersey", "uniform", "dress", "clothes", "outfit")
LOWER_WORDS = ("trousers", "pants", "jeans", "skirt", "shorts")
GENERIC = {"upper": "top", "lower": "trousers"}
# Things a detector finds on or beside a person, and how the person's phrase says it.
CARRIED = {"backpack", "handbag", "suitcase", "umbrella", "tie", "glasses", "sunglasses", "hat", "helmet"}
HELD = {"cup", "coffee cup", "mug", "bottle", "mobile phone", "book", "wine glass", "umbrella", "laptop", "remote"}
RIDDEN = {"bicycle", "motorcycle", "horse", "skateboard", "surfboard"}

NUMBERS = ("", "one", "two", "three", "four", "five")
PLURALS = {"person": "people", "man": "men", "woman": "women", "child": "children", "bus": "buses", "box": "boxes"}
PLURALS |= {"glass": "glasses", "wine glass": "wine glasses", "mouse": "mice", "knife": "knives", "sheep": "sheep"}
PLACES = ("classroom", "office", "meeting room", "warehouse", "store aisle", "kitchen", "parking lot", "street")
PLACES += ("hallway", "empty room", "beach", "stage", "living room", "restaurant", "road")

# Korean words a query may use for the same things (query side only: tags are English).
KOREAN = {
    "빨간": "red", "빨강": "red", "빨간색": "red", "붉은": "red", "파란": "blue", "파랑": "blue", "파란색": "blue",
    "남색": "blue", "회색": "grey", "은색": "grey", "검은": "black", "검정": "black", "검은색": "black",
    "까만": "black", "흰": "white", "하얀": "white", "흰색": "white", "노란": "yellow", "노란색": "yellow",
    "초록": "green", "초록색": "green", "녹색": "green", "주황": "orange", "주황색": "orange", "보라": "purple",
    "보라색": "purple", "갈색": "brown", "분홍": "pink", "분홍색": "pink",
    "셔츠": "shirt", "티셔츠": "t-shirt", "가디건": "cardigan", "카디건": "cardigan", "재킷": "jacket",
    "자켓": "jacket", "코트": "coat", "정장": "suit", "양복": "suit", "바지": "trousers", "청바지": "jeans",
    "치마": "skirt", "원피스": "dress", "드레스": "dress", "조끼": "vest", "상의": "top", "옷": "clothes",
    "후드티": "hoodie", "스웨터": "sweater", "모자": "hat", "안전모": "hard hat", "헬멧": "helmet", "안경": "glasses",
    "선글라스": "sunglasses", "넥타이": "tie", "가방": "handbag", "배낭": "backpack",
    "남자": "man", "남성": "man", "여자": "woman", "여성": "woman", "아이": "child", "어린이": "child",
    "소년": "boy", "소녀": "girl", "노인": "elderly", "사람": "person", "사람들": "people",
    "교실": "classroom", "사무실": "office", "회의실": "meeting room", "창고": "warehouse", "부엌": "kitchen",
    "주방": "kitchen", "주차장": "parking lot", "거리": "street", "도로": "road", "복도": "hallway",
    "해변": "beach", "무대": "stage", "거실": "living room", "식당": "restaurant", "매장": "store", "가게": "store",
    "자동차": "car", "차": "car", "자전거": "bicycle", "오토바이": "motorcycle", "버스": "bus", "트럭": "truck",
    "물병": "bottle", "병": "bottle", "의자": "chair", "탁자": "table", "테이블": "table", "책상": "desk",
    "컵": "cup", "휴대폰": "mobile phone", "사과": "apple", "개": "dog", "고양이": "cat",
    "두": "two", "세": "three", "네": "four", "다섯": "five", "군중": "crowd",
    # signs, as on-screen text says them
    "비상구": "emergency exit", "출구": "exit", "입구": "entrance", "화장실": "restroom", "계단": "stairs",
    "엘리베이터": "elevator", "주의": "caution", "위험": "danger", "금연": "no smoking",
}  # fmt: skip
# the other way, for a query in English that should find Korean words on screen: things, places and signs only (the
# first Korean word for each), of two syllables or more. Colours, counts, people and clothes are left out: "네"
# (four) is also "yes", "두" and "세" are parts of many words, and a subtitle saying 남자 does not show a man.
_NOT_TRANSLATED = {*COLOURS, *NUMBERS, *UPPER_WORDS, *LOWER_WORDS, *CARRIED, "man", "woman", "person", "people"}
_NOT_TRANSLATED |= {"child", "boy", "girl", "elderly", "crowd", "clothes", "suit", "dress", "vest", "top"}
ENGLISH_KOREAN = {
    english: korean
    for korean, english in reversed(KOREAN.items())
    if english not in _NOT_TRANSLATED and len(korean) >= 2
}


# what people do (the tags of :mod:`heimdex.perception.actions`, and riding from boxes: :mod:`heimdex.perception.objects`),
# as a query may say it, English and Korean
ACTION_WORDS = {
    **dict.fromkeys(("wave", "waves", "waving", "waved", "흔드는", "흔들며", "흔들고", "손인사"), "waving"),
    **dict.fromkeys(("raise", "raises", "raising", "raised", "손든", "손들고"), "raising a hand"),
    **dict.fromkeys(("pointing", "pointed", "가리키는", "가리키며", "손가락질"), "pointing"),
    **dict.fromkeys(("clap", "claps", "clapping", "applauding", "박수", "박수치는"), "clapping"),
    **dict.fromkeys(("covering", "covers", "hiding", "가린", "가리는", "가리고"), "covering face"),
    **dict.fromkeys(("cry", "cries", "crying", "tears", "weeping", "우는", "울고", "울며"), "crying"),
    **dict.fromkeys(("hug", "hugs", "hugging", "embracing", "안는", "안고", "포옹", "껴안는"), "hugging"),
    **dict.fromkeys(("sit", "sits", "sitting", "seated", "앉은", "앉아", "앉아있는"), "sitting"),
    **dict.fromkeys(("stand", "stands", "standing", "서있는", "서서"), "standing"),
    **dict.fromkeys(("walk", "walks", "walking", "걷는", "걸어가는", "걷고"), "walking"),
    **dict.fromkeys(("run", "runs", "running", "뛰는", "달리는", "뛰어가는"), "running"),
    **dict.fromkeys(("ride", "rides", "riding", "rode", "cycling", "타는", "타고"), "riding"),
}  # fmt: skip


def plural(noun: str, count: int) -> str:
    """'two people', 'three cars', 'a crowd' for six people or more."""
    if count >= 6:
        return "crowd" if noun == "person" else f"many {PLURALS.get(noun, noun + 's')}"
    return f"{NUMBERS[count]} {PLURALS.get(noun, noun + 's')}" if count > 1 else noun


def article(phrase: str) -> str:
    """'a red coat', 'an orange vest', 'black trousers' (plural garments take none)."""
    last = phrase.split()[-1]
    if last in {"trousers", "pants", "jeans", "shorts", "pajamas", "sunglasses", "glasses", "clothes"}:
        return phrase
    return ("an " if phrase[0] in "aeiou" else "a ") + phrase
