# Kazakh and Russian texts are Cyrillic on purpose.
"""Sample page texts for the sandbox web sites, per hotline category, in Kazakh, Russian, English.

Every text is fictional and non-graphic: invented companies, people, movements, a made-up
country (Nordland) and a made-up out-group (the Glorpians), written only so that the pipeline's
language detection, categorisation and evidence code have realistic input. No text gives
instructions for anything harmful.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Article:
    """An HTML page of sample text: what the web server renders with a title, heading and body."""

    lang: str
    title: str
    heading: str
    paragraphs: tuple[str, ...]


NEWS_KK = Article(
    "kk",
    "KazInfo жаңалықтары — Астанада жаңа саябақ ашылды",
    "Астанада жаңа қалалық саябақ ашылды",
    (
        "Елордада бүгін жаңа қалалық саябақ ашылды. Саябақта балалар алаңы, велосипед жолдары "
        "және шағын көл бар.",
        "Қала әкімдігінің мәліметінше, жоба жергілікті тұрғындардың ұсыныстары бойынша жасалған. "
        "Келесі жылы тағы екі саябақ салу жоспарланып отыр.",
    ),
)

NEWS_RU = Article(
    "ru",
    "Новости KazInfo — в Астане открылся новый парк",
    "В Астане открылся новый городской парк",
    (
        "Сегодня в столице открылся новый городской парк. В нём есть детская площадка, "
        "велодорожки и небольшое озеро.",
        "По данным акимата, проект подготовлен с учётом предложений жителей. В следующем году "
        "планируется построить ещё два парка.",
    ),
)

GARDEN_EN = Article(
    "en",
    "Sample Site — gardening tips",
    "Growing tomatoes on a balcony",
    (
        "Tomatoes grow well in large pots if they get six hours of sun a day. Water them in the "
        "morning and keep the soil moist but not wet.",
        "Pinch off the side shoots every week so the plant puts its energy into the fruit.",
    ),
)

HERBS_EN = Article(
    "en",
    "Sample Site — herbs",
    "Five herbs for a kitchen window",
    (
        "Basil, parsley, chives, mint and thyme all grow on a bright kitchen window sill.",
        "Cut them often: regular harvesting keeps the plants bushy.",
    ),
)

CASINO_RU = Article(
    "ru",
    "Best Casino — онлайн-казино с бонусом 200%",
    "Играйте онлайн и выигрывайте каждый день",
    (
        "Зарегистрируйтесь в Best Casino за одну минуту и получите приветственный бонус 200% на "
        "первый депозит. Слоты, рулетка и ставки на спорт доступны круглосуточно.",
        "Пополнение картой или криптовалютой. Вывод выигрыша за 15 минут, без верификации "
        "и без проверки возраста.",
    ),
)

CASINO_KK = Article(
    "kk",
    "Best Casino — онлайн казино, 200% сыйлық",
    "Онлайн ойнап, күн сайын ұтыңыз",
    (
        "Best Casino сайтына бір минутта тіркеліп, алғашқы депозитке 200% сыйлық алыңыз. "
        "Слоттар, рулетка және спорттық ставкалар тәулік бойы қолжетімді.",
        "Шотты карта немесе криптовалюта арқылы толтырыңыз. Ұтысты 15 минутта шығарамыз, "
        "құжатсыз және жасыңызды тексермейміз.",
    ),
)

PYRAMID_RU = Article(
    "ru",
    "CryptoRise — доход 30% в неделю",
    "Инвестируйте сегодня — получайте 30% каждую неделю",
    (
        "Вложите от 50 000 тенге в наш криптофонд и получайте гарантированный доход 30% в неделю. "
        "Никаких рисков — прибыль гарантирована.",
        "Приглашайте друзей и получайте 10% с каждого их вклада. Чем больше людей в вашей "
        "команде, тем выше статус: Серебро, Золото, Бриллиант.",
        "До закрытия набора осталось 48 часов!",
    ),
)

PYRAMID_KK = Article(
    "kk",
    "CryptoRise — аптасына 30% табыс",
    "Бүгін салыңыз — әр апта сайын 30% алыңыз",
    (
        "Біздің криптоқорға 50 000 теңгеден бастап ақша салып, аптасына 30% кепілді табыс "
        "алыңыз. Ешқандай тәуекел жоқ.",
        "Достарыңызды шақырып, олардың әр салымынан 10% алыңыз. Командаңыз неғұрлым үлкен болса, "
        "мәртебеңіз соғұрлым жоғары болады.",
    ),
)

PYRAMID_EN = Article(
    "en",
    "CryptoRise — earn 30% every week",
    "Invest today, earn 30% weekly",
    (
        "Deposit from 100 dollars into our crypto fund and receive a guaranteed 30% return every "
        "week. No risk, guaranteed profit.",
        "Invite friends and earn 10% of every deposit they make. Build your team to reach Silver, "
        "Gold and Diamond status.",
    ),
)

DRUGS_RU = Article(
    "ru",
    "Магазин «Белый кролик» — доставка по всем городам",
    "Запрещённые вещества в наличии",
    (
        "Продаём запрещённые вещества с доставкой закладкой в вашем городе. Оплата только "
        "криптовалютой, заказ через бот в мессенджере.",
        "Скидка 10% на первый заказ по промокоду. Работаем анонимно. Ищем курьеров — высокая "
        "оплата.",
    ),
)

HATE_EN = Article(
    "en",
    "Pure Nation Forum — the truth they hide",
    "Why the Glorpians must leave our country",
    (
        "The Glorpians are not like us. They should not be allowed to work, vote or live in our "
        "towns.",
        "Join our forum and spread the word. Every true citizen must stand up against the "
        "Glorpian invasion.",
    ),
)

EXTREMISM_RU = Article(
    "ru",
    "«Свободная Нация» — время перемен",
    "Власть в Нордландии незаконна",
    (
        "Движение «Свободная Нация» призывает сторонников не подчиняться законам Нордландии и "
        "готовиться к насильственной смене конституционного строя.",
        "Вступайте в наши ячейки и собирайте деньги на нужды движения. День перемен близок.",
    ),
)

TERRORISM_EN = Article(
    "en",
    "Northern Storm — call to arms",
    "Join the Northern Storm brigades",
    (
        "Northern Storm calls on its supporters to join its armed brigades in the mountains of "
        "Nordland and to fight the government.",
        "Send donations in cryptocurrency to the wallet on our channel. Those who join will be "
        "remembered as heroes.",
    ),
)

TERRORISM_RU = Article(
    "ru",
    "«Северный шторм» — к оружию",
    "Вступайте в бригады «Северного шторма»",
    (
        "«Северный шторм» призывает сторонников вступать в вооружённые бригады в горах "
        "Нордландии и воевать против правительства.",
        "Отправляйте пожертвования в криптовалюте на кошелёк из нашего канала.",
    ),
)

SUICIDE_RU = Article(
    "ru",
    "Группа «Последний шаг» — 50 дней заданий",
    "Тебя никто не понимает? Вступай в игру",
    (
        "Каждый день куратор присылает тебе новое задание. Задания секретные: никому о них "
        "не рассказывай, особенно родителям.",
        "Игра длится 50 дней, выйти из неё нельзя. Последнее задание получат только избранные.",
    ),
)

SUICIDE_KK = Article(
    "kk",
    "«Соңғы қадам» тобы — 50 күндік тапсырмалар",
    "Сені ешкім түсінбей ме? Ойынға қосыл",
    (
        "Күн сайын куратор саған жаңа тапсырма жібереді. Тапсырмалар құпия: ешкімге, әсіресе "
        "ата-анаңа айтпа.",
        "Ойын 50 күнге созылады, одан шығуға болмайды.",
    ),
)

BULLYING_KK = Article(
    "kk",
    "9Б сыныбының өсегі",
    "Сыныптағы ең күлкілі оқушыға дауыс беріңіз",
    (
        "Асан Бекұлы туралы барлық құпияны осы жерден оқыңыз. Оның суреттерін жүктеп, "
        "пікір қалдырыңыз.",
        "Оны мектепте ешкім жақтырмайды — оған хат жазып, осыны айтыңыз!",
    ),
)

BULLYING_RU = Article(
    "ru",
    "Сплетни 9Б",
    "Голосуйте: кто самый нелепый в классе",
    (
        "Здесь все секреты про Асана Бекулы. Загружайте его фото и пишите комментарии.",
        "Его никто не любит в школе — напишите ему об этом!",
    ),
)

SECT_RU = Article(
    "ru",
    "«Сияющий Круг» — путь к просветлению",
    "Учитель знает ответ на все вопросы",
    (
        "Только Учитель Сияющего Круга спасёт тебя от близкого конца света. Оставь семью и "
        "старых друзей — они тянут тебя вниз.",
        "Передай имущество общине и переезжай в наш центр. Врачи не нужны: вера исцеляет всё.",
    ),
)

VIOLENCE_RU = Article(
    "ru",
    "Уличные бои — видео без цензуры",
    "Новые драки каждый день",
    (
        "Смотри записи уличных драк и нападений на прохожих. Присылай свои видео — лучшие "
        "авторы получают призы.",
        "Устраиваем бои без правил, ставки принимаются в комментариях.",
    ),
)
