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

# Korean words a query may use for the same things (tags are English); the first Korean word for an English one is
# also the one a Korean page shows for it (heimdex.perception.korean).
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
    "병": "bottle", "물병": "bottle", "의자": "chair", "탁자": "table", "테이블": "table", "책상": "desk",
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


# who a person is, as the taggers name people (heimdex.perception.people: face nouns), longest first
PERSON_NOUNS = ("elderly woman", "elderly man", "elderly person", "person", "woman", "child", "girl", "man", "boy")

# The Korean word a page shows for a tag word that the query table above has none for (heimdex.perception.korean
# composes tags from these and from KOREAN, whose first Korean word for an English one is the one shown). An English
# word has one owner: a word KOREAN translates is never a key here (a colour may be: "orange" here is the fruit).
KOREAN_SHOWN = {
    # the COCO detector's things (named as heimdex.perception.objects.SAME_AS renames them)
    "airplane": "비행기", "train": "기차", "boat": "보트", "traffic light": "신호등", "fire hydrant": "소화전",
    "stop sign": "정지 표지판", "parking meter": "주차 요금기", "bench": "벤치", "bird": "새", "horse": "말",
    "sheep": "양", "cow": "소", "elephant": "코끼리", "bear": "곰", "zebra": "얼룩말", "giraffe": "기린",
    "umbrella": "우산", "suitcase": "여행 가방", "frisbee": "원반", "skis": "스키", "snowboard": "스노보드",
    "sports ball": "공", "kite": "연", "baseball bat": "야구 방망이", "baseball glove": "야구 글러브",
    "skateboard": "스케이트보드", "surfboard": "서핑보드", "tennis racket": "테니스 라켓", "wine glass": "와인잔",
    "fork": "포크", "knife": "칼", "spoon": "숟가락", "bowl": "그릇", "banana": "바나나", "sandwich": "샌드위치",
    "orange": "오렌지", "broccoli": "브로콜리", "carrot": "당근", "hot dog": "핫도그", "pizza": "피자",
    "donut": "도넛", "cake": "케이크", "sofa": "소파", "potted plant": "화분", "bed": "침대", "toilet": "변기",
    "television": "텔레비전", "laptop": "노트북", "mouse": "마우스", "remote": "리모컨", "keyboard": "키보드",
    "microwave": "전자레인지", "oven": "오븐", "toaster": "토스터", "sink": "싱크대", "refrigerator": "냉장고",
    "book": "책", "clock": "시계", "vase": "꽃병", "scissors": "가위", "teddy bear": "곰 인형",
    "hair drier": "헤어드라이어", "toothbrush": "칫솔",
    # the Open Images detector's (its label map ships with the model)
    "boot": "부츠", "cattle": "소", "computer mouse": "마우스", "computer monitor": "모니터", "box": "상자",
    "mug": "머그잔", "coffee cup": "커피잔", "stationary bicycle": "실내 자전거", "high heels": "하이힐",
    "vehicle": "차량", "footwear": "신발", "camera": "카메라",
    # what people wear, as the taggers and the concepts model name it
    "sweatshirt": "맨투맨", "jersey": "저지", "lab coat": "실험복", "apron": "앞치마", "trench coat": "트렌치코트",
    "fur coat": "모피 코트", "poncho": "판초", "kimono": "기모노", "abaya": "아바야", "robe": "로브",
    "academic gown": "졸업 가운", "gown": "가운", "military uniform": "군복", "uniform": "제복",
    "bulletproof vest": "방탄조끼", "pajama": "잠옷", "pajamas": "잠옷", "jean": "청바지", "miniskirt": "미니스커트",
    "overskirt": "오버스커트", "hoopskirt": "후프스커트", "sarong": "사롱", "swimming trunks": "수영 바지",
    "swim shorts": "수영 바지", "blouse": "블라우스", "outfit": "옷차림", "pants": "바지", "shorts": "반바지",
    "windsor tie": "넥타이", "bow tie": "나비넥타이", "crash helmet": "헬멧", "football helmet": "미식축구 헬멧",
    "cowboy hat": "카우보이모자", "sombrero": "솜브레로", "stole": "숄", "scarf": "스카프",
    "high-visibility vest": "형광 조끼", "safety vest": "안전 조끼",
    # what places are told by (heimdex.perception.places)
    "whiteboard": "화이트보드", "desktop computer": "데스크톱 컴퓨터", "grocery store": "식료품점",
    "shoe shop": "신발 가게", "bookshop": "서점", "toyshop": "장난감 가게", "confectionery": "과자 가게",
    "tobacco shop": "담배 가게", "shopping cart": "쇼핑 카트", "stove": "가스레인지", "dishwasher": "식기세척기",
    "frying pan": "프라이팬", "kitchenware": "주방용품", "streetcar": "전차", "street sign": "도로 표지판",
    "forklift": "지게차", "pallet": "팔레트", "crate": "나무 상자", "carton": "종이 상자", "studio couch": "소파 침대",
    "home theater": "홈시어터", "entertainment center": "텔레비전 장식장", "coffee table": "커피 테이블",
    "dining table": "식탁", "plate": "접시", "seashore": "바닷가", "sandbar": "모래톱", "lakeside": "호숫가", "microphone": "마이크",
    "spotlight": "조명", "electric guitar": "전기 기타", "drum": "드럼", "bookcase": "책장", "wardrobe": "옷장",
    "valley": "계곡", "cliff": "절벽",
    # places, settings and light
    "store aisle": "매장 통로", "empty room": "빈 방", "indoors": "실내", "outdoors": "야외",
    "dark": "어두움", "at night": "밤", "bright": "밝음", "daytime": "낮",
    # CLIP's zero-shot words (heimdex.models.clip.ZERO_SHOT_TAGS)
    "laughing": "웃음", "dancing": "춤", "singing": "노래", "eating": "식사", "drinking": "마시기", "talking": "대화",
    "typing on a computer": "컴퓨터 타이핑", "reading": "독서", "driving": "운전", "rain": "비", "snow": "눈",
    "concert": "공연", "supermarket": "슈퍼마켓", "factory": "공장", "water bottles": "물병", "fruit": "과일",
    "text on a screen": "화면 속 글자", "group of people": "사람들 무리",
    # concepts seen on the study library's scenes
    "cellular telephone": "휴대 전화", "water bottle": "물병", "tub": "욕조",
}  # fmt: skip


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
# each action as a page shows it in Korean: the tag's name, and what a caption says of a person doing it
ACTIONS_KOREAN = {
    "waving": ("손 흔들기", "손을 흔드는 중"),
    "raising a hand": ("손 들기", "손을 든 채"),
    "pointing": ("가리키기", "가리키는 중"),
    "clapping": ("박수", "박수 치는 중"),
    "covering face": ("얼굴 가리기", "얼굴을 가린 채"),
    "crying": ("울기", "우는 중"),
    "hugging": ("포옹", "포옹하는 중"),
    "sitting": ("앉아 있기", "앉아 있음"),
    "standing": ("서 있기", "서 있음"),
    "walking": ("걷기", "걷는 중"),
    "running": ("달리기", "달리는 중"),
    "riding": ("타기", "타는 중"),
}
# the words of a face's expression (heimdex.perception.people.EXPRESSION_WORDS) in Korean, as one of several things
# said of a person ("웃고 ...") and as the last ("... 웃는 남자"); a tag alone is that face ("웃는 얼굴")
EXPRESSIONS_KOREAN = {
    "smiling": ("웃고", "웃는"),
    "happy": ("행복하고", "행복한"),
    "sad": ("슬프고", "슬픈"),
    "surprised": ("놀라고", "놀란"),
    "angry": ("화나고", "화난"),
    "afraid": ("겁먹고", "겁먹은"),
    "disgusted": ("찡그리고", "찡그린"),
}


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
