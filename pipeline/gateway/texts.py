"""Every text of the gateway's pages, in Kazakh, Russian and English: one table.

The public pages speak the reporter's language: `?lang=` first, then the browser's
Accept-Language, else Kazakh, the state language. A text missing in one language is a test
failure, not a blank on a page.
"""

from __future__ import annotations

from typing import Literal

from schemas import Category

Language = Literal["kk", "ru", "en"]
LANGUAGES: tuple[Language, ...] = ("kk", "ru", "en")
DEFAULT_LANGUAGE: Language = "kk"
LANGUAGE_NAMES: dict[Language, str] = {"kk": "Қазақша", "ru": "Русский", "en": "English"}

# key -> (kk, ru, en). `{name}` marks a value filled in by the page.
_TEXTS: dict[str, tuple[str, str, str]] = {
    # The frame of every page.
    "site_name": (
        "Заңсыз контент туралы жедел желі",
        "Горячая линия по противоправному контенту",
        "Illegal content hotline",
    ),
    "nav_report": ("Хабарлау", "Сообщить", "Report"),
    "nav_status": ("Өтініш күйі", "Статус обращения", "Report status"),
    "nav_registry": ("Шектеулер тізілімі", "Реестр ограничений", "Registry"),
    "nav_login": ("Қызметкерлерге кіру", "Вход для сотрудников", "Staff login"),
    "nav_logout": ("Шығу", "Выйти", "Log out"),
    "nav_review": ("Тексеру кезегі", "Очередь проверки", "Review queue"),
    "nav_ntd": ("Өңдеу мерзімдері", "Сроки обработки", "Takedown times"),
    "language": ("Тіл", "Язык", "Language"),
    # The report form.
    "report_title": (
        "Заңсыз контент туралы хабарлаңыз",
        "Сообщите о противоправном контенте",
        "Report illegal online content",
    ),
    "report_intro": (
        "Интернеттегі заңсыз материалдың мекенжайын көрсетіңіз. "
        "Жедел желі талдаушылары әр хабарламаны тексереді.",
        "Укажите адрес противоправного материала в интернете. "
        "Аналитики горячей линии проверяют каждое сообщение.",
        "Give the address of the illegal material online. "
        "The hotline's analysts check every report.",
    ),
    "report_anonymous": (
        "Атыңыз бен электрондық поштаңызды көрсетпеуге болады: "
        "жасырын хабарламалар да дәл солай қаралады.",
        "Имя и e-mail указывать не обязательно: анонимные сообщения рассматриваются так же.",
        "Your name and e-mail are optional: anonymous reports are handled just the same.",
    ),
    "report_no_copies": (
        "Материалды жүктеп алмаңыз және ешкімге жібермеңіз: мекенжайы жеткілікті.",
        "Не скачивайте материал и никому его не пересылайте: достаточно адреса.",
        "Do not download the material or send it to anyone: the address is enough.",
    ),
    "field_url": ("Мекенжай (URL)", "Адрес (URL)", "Address (URL)"),
    "field_category": ("Санат", "Категория", "Category"),
    "field_description": (
        "Тақырыбы немесе сипаттамасы",
        "Тема или описание",
        "Topic or description",
    ),
    "field_name": ("Атыңыз (міндетті емес)", "Ваше имя (необязательно)", "Your name (optional)"),
    "field_email": (
        "Электрондық пошта (міндетті емес)",
        "E-mail (необязательно)",
        "E-mail (optional)",
    ),
    "choose_category": ("Санатты таңдаңыз", "Выберите категорию", "Choose a category"),
    "report_send": ("Жіберу", "Отправить", "Send the report"),
    # The receipt.
    "receipt_title": (
        "Хабарламаңыз қабылданды",
        "Ваше сообщение принято",
        "Your report was received",
    ),
    "receipt_case": ("Іс нөмірі", "Номер обращения", "Case number"),
    "receipt_token": ("Құпия күй коды", "Секретный код статуса", "Secret status code"),
    "receipt_keep": (
        "Осы нөмір мен кодты сақтаңыз: өтініштің күйін тек солар арқылы көре аласыз. "
        "Код қайта берілмейді.",
        "Сохраните номер и код: только по ним можно узнать статус обращения. "
        "Код не выдаётся повторно.",
        "Keep the number and the code: they are the only way to see your report's status. "
        "The code is not given out again.",
    ),
    "receipt_status_link": ("Өтініш күйін қарау", "Посмотреть статус", "See the status"),
    # The status page.
    "status_title": ("Өтініш күйі", "Статус обращения", "Report status"),
    "status_intro": (
        "Іс нөмірі мен құпия кодты енгізіңіз.",
        "Введите номер обращения и секретный код.",
        "Enter the case number and the secret code.",
    ),
    "field_token": ("Құпия код", "Секретный код", "Secret code"),
    "status_lookup": ("Көрсету", "Показать", "Show"),
    "status_not_found": (
        "Бұл нөмір мен код бойынша өтініш табылмады.",
        "Обращение с таким номером и кодом не найдено.",
        "No report matches this number and code.",
    ),
    "status_is": ("Күйі", "Статус", "Status"),
    "status_since": ("Қашаннан бері", "С какого времени", "Since"),
    "status_reason": ("Себебі", "Причина", "Reason"),
    "status_forwarded_to": ("Кімге жіберілді", "Кому передано", "Forwarded to"),
    "status_just_arrived": (
        "Өтініш жаңа ғана келді және әлі өңделген жоқ.",
        "Обращение только что поступило и ещё не обработано.",
        "The report has just arrived and is not processed yet.",
    ),
    "public_received": ("қабылданды", "принято", "received"),
    "public_checking": ("тексерілуде", "на проверке", "being checked"),
    "public_forwarded": ("жіберілді", "передано", "forwarded"),
    "public_closed": ("жабылды", "закрыто", "closed"),
    # Who a case was forwarded to, by kind (never by name or address).
    "kind_site_admin": ("сайт әкімшісі", "администратор сайта", "site administrator"),
    "kind_registrar": ("домен тіркеушісі", "регистратор домена", "domain registrar"),
    "kind_hosting": ("хостинг-провайдер", "хостинг-провайдер", "hosting provider"),
    "kind_cdn": ("CDN провайдері", "CDN-провайдер", "CDN provider"),
    "kind_platform": ("платформа", "платформа", "platform"),
    "kind_partner_hotline": (
        "шетелдік серіктес жедел желі",
        "зарубежная партнёрская горячая линия",
        "partner hotline abroad",
    ),
    "kind_law_enforcement": (
        "құқық қорғау органдары",
        "правоохранительные органы",
        "law enforcement",
    ),
    "kind_blocking_authority": (
        "қолжетімділікті шектеу жөніндегі уәкілетті орган",
        "уполномоченный орган по ограничению доступа",
        "blocking authority",
    ),
    "kind_media_authority": (
        "ақпарат саласындағы уәкілетті орган",
        "уполномоченный орган в сфере информации",
        "media authority",
    ),
    # Why a case was closed, by reason code; another code is shown as it is.
    "closed_not_illegal": (
        "заңсыз мазмұн табылмады",
        "противоправный контент не обнаружен",
        "no illegal content found",
    ),
    "closed_not_found": ("бет табылмады", "страница не найдена", "the page was not found"),
    "closed_content_removed": (
        "мазмұн алынып тасталған",
        "контент уже удалён",
        "the content was already removed",
    ),
    "closed_unreachable": ("сайт жауап бермейді", "сайт не отвечает", "the site does not answer"),
    # Refusals of a report, by the received stage's reason code.
    "refused_payload_too_large": (
        "Хабарлама тым ұзын.",
        "Сообщение слишком большое.",
        "The report is too large.",
    ),
    "refused_unreadable": (
        "Хабарламаны оқу мүмкін болмады.",
        "Сообщение не удалось прочитать.",
        "The report could not be read.",
    ),
    "refused_missing_url": ("Мекенжайды көрсетіңіз.", "Укажите адрес.", "Please give the address."),
    "refused_url_too_long": (
        "Мекенжай тым ұзын (ең көбі 2048 таңба).",
        "Адрес слишком длинный (не более 2048 символов).",
        "The address is too long (at most 2,048 characters).",
    ),
    "refused_url_scheme_not_allowed": (
        "Тек http:// немесе https:// мекенжайлары қабылданады.",
        "Принимаются только адреса http:// и https://.",
        "Only http:// and https:// addresses are accepted.",
    ),
    "refused_url_invalid": (
        "Мекенжай дұрыс жазылмаған.",
        "Адрес указан неверно.",
        "The address is not valid.",
    ),
    "refused_unknown_category": (
        "Тізімнен санатты таңдаңыз.",
        "Выберите категорию из списка.",
        "Choose a category from the list.",
    ),
    "refused_missing_field": (
        "Міндетті өріс толтырылмаған: {field}.",
        "Не заполнено обязательное поле: {field}.",
        "A required field is empty: {field}.",
    ),
    "refused_invalid_field": (
        "Өріс дұрыс толтырылмаған: {field}.",
        "Поле заполнено неверно: {field}.",
        "This field is not valid: {field}.",
    ),
    "form_expired": (
        "Форманың мерзімі өтіп кетті. Қайта жіберіңіз.",
        "Срок действия формы истёк. Отправьте её ещё раз.",
        "The form has expired. Please send it again.",
    ),
    "too_many": (
        "Сұраулар тым көп. {seconds} секундтан кейін қайталаңыз.",
        "Слишком много запросов. Повторите через {seconds} с.",
        "Too many requests. Please try again in {seconds} s.",
    ),
    "unavailable": (
        "Қызмет уақытша қолжетімсіз. Сәлден соң қайталаңыз.",
        "Сервис временно недоступен. Повторите чуть позже.",
        "The service is briefly unavailable. Please try again shortly.",
    ),
    # The registry.
    "registry_title": (
        "Қолжетімділігі шектелген ресурстар тізілімі",
        "Реестр ресурсов с ограниченным доступом",
        "Registry of restricted resources",
    ),
    "registry_intro": (
        "Тізілімде жедел желі қолжетімділікті шектеуді сұраған ресурстар, құқықтық негізі "
        "және шешім қабылдайтын орган көрсетілген. Шешімге шағым беруге болады.",
        "В реестре — ресурсы, доступ к которым горячая линия просила ограничить, с правовым "
        "основанием и органом, принимающим решение. Решение можно обжаловать.",
        "The resources the hotline asked to restrict, with the legal basis and the authority "
        "that decides. Every entry can be appealed.",
    ),
    "registry_csam": (
        "Балаларды жыныстық қанау материалдары бар ресурстар ешқашан жарияланбайды, тек "
        "саналады: {count}.",
        "Ресурсы с материалами сексуального насилия над детьми никогда не публикуются, "
        "только учитываются: {count}.",
        "Resources with child sexual abuse material are never listed, only counted: {count}.",
    ),
    "registry_total": ("Барлығы: {total}", "Всего: {total}", "Entries: {total}"),
    "registry_empty": ("Жазбалар жоқ.", "Записей нет.", "No entries."),
    "registry_search": ("Домен", "Домен", "Domain"),
    "registry_filter": ("Сүзу", "Отобрать", "Filter"),
    "any": ("барлығы", "все", "any"),
    "previous": ("Алдыңғы", "Назад", "Previous"),
    "next": ("Келесі", "Далее", "Next"),
    "col_resource": ("Ресурс", "Ресурс", "Resource"),
    "col_category": ("Санат", "Категория", "Category"),
    "col_basis": ("Құқықтық негіз", "Правовое основание", "Legal basis"),
    "col_authority": ("Шешім қабылдайтын орган", "Принимающий решение орган", "Deciding authority"),
    "col_date": ("Күні", "Дата", "Date"),
    "col_status": ("Күйі", "Статус", "Status"),
    "col_appeal": ("Шағым", "Обжалование", "Appeal"),
    "registry_requested": ("сұрау жіберілді", "запрос направлен", "requested"),
    "registry_restricted": ("шектелді", "ограничен", "restricted"),
    "registry_under_appeal": ("шағым қаралуда", "на обжаловании", "under appeal"),
    "registry_upheld": ("шектеу қалдырылды", "ограничение оставлено", "upheld"),
    "registry_lifted": ("шектеу алынды", "ограничение снято", "lifted"),
    # Appeals.
    "appeal_link": ("Шағым беру", "Обжаловать", "Appeal"),
    "appeal_title": ("Шектеуге шағым", "Обжалование ограничения", "Appeal against a restriction"),
    "appeal_intro": (
        "Шектеу қате деп санасаңыз, себебін жазыңыз. Шағымды жедел желі қызметкері қарайды.",
        "Если вы считаете ограничение ошибочным, опишите почему. Жалобу рассмотрит сотрудник "
        "горячей линии.",
        "If you believe the restriction is wrong, say why. A member of the hotline's staff "
        "decides.",
    ),
    "field_grounds": ("Негіздеме", "Основания", "Grounds"),
    "appeal_send": ("Шағымды жіберу", "Отправить жалобу", "Send the appeal"),
    "appeal_received": (
        "Шағымыңыз қабылданды, нөмірі: {appeal_id}.",
        "Жалоба принята, номер: {appeal_id}.",
        "Your appeal was received, number {appeal_id}.",
    ),
    "appeal_grounds_missing": (
        "Негіздемені жазыңыз (ең көбі 5000 таңба).",
        "Опишите основания (не более 5000 символов).",
        "Please give the grounds (at most 5,000 characters).",
    ),
    # Login and refusals of a page.
    "login_title": ("Қызметкерлерге кіру", "Вход для сотрудников", "Staff login"),
    "field_key": ("API кілті", "API-ключ", "API key"),
    "login_send": ("Кіру", "Войти", "Log in"),
    "login_wrong": ("Кілт танылмады.", "Ключ не распознан.", "The key is not recognised."),
    "unauthorized": (
        "Бұл бетті ашу үшін кіріңіз.",
        "Чтобы открыть эту страницу, войдите.",
        "Log in to open this page.",
    ),
    "forbidden": (
        "Бұл бет сіздің рөліңізге ашық емес.",
        "Эта страница недоступна для вашей роли.",
        "This page is not open to your role.",
    ),
    "not_found": ("Табылмады.", "Не найдено.", "Not found."),
    # The review queue and a case.
    "review_title": ("Тексеру кезегі", "Очередь проверки", "Review queue"),
    "review_waiting": (
        "Күтуде: {count}, ең ескісі бірінші.",
        "Ожидают: {count}, сначала самые старые.",
        "Waiting: {count}, oldest first.",
    ),
    "review_empty": ("Кезек бос.", "Очередь пуста.", "Nothing waits."),
    "col_case": ("Іс", "Обращение", "Case"),
    "col_waiting": ("Күтіп тұр", "Ожидает", "Waiting"),
    "col_reported": ("Хабарланған санат", "Заявленная категория", "Reported"),
    "col_suggested": ("Ұсынылған санат", "Предложенная категория", "Suggested"),
    "col_why": ("Неге", "Почему", "Why"),
    "col_evidence": ("Дәлелдер", "Доказательства", "Evidence"),
    "appeals_title": ("Қаралмаған шағымдар", "Нерассмотренные жалобы", "Pending appeals"),
    "appeals_empty": ("Шағым жоқ.", "Жалоб нет.", "No appeal waits."),
    "col_grounds": ("Негіздеме", "Основания", "Grounds"),
    "col_submitted": ("Берілген уақыты", "Подана", "Submitted"),
    "case_title": ("Іс {case_id}", "Обращение {case_id}", "Case {case_id}"),
    "section_report": ("Хабарлама", "Сообщение", "Report"),
    "section_link": ("Сілтемені тексеру", "Проверка ссылки", "Link check"),
    "section_content": ("Мазмұн", "Содержимое", "Content"),
    "section_finding": ("Жүйенің қорытындысы", "Вывод системы", "The system's finding"),
    "section_decide": ("Шешім", "Решение", "Decision"),
    "reported_url": ("Мекенжай", "Адрес", "Address"),
    "description": ("Сипаттама", "Описание", "Description"),
    "channel": ("Арна", "Канал", "Channel"),
    "submitted_at": ("Жіберілген уақыты", "Отправлено", "Submitted"),
    "final_url": ("Соңғы мекенжай", "Конечный адрес", "Final address"),
    "http_status": ("HTTP күйі", "HTTP-статус", "HTTP status"),
    "addresses": ("IP мекенжайлар", "IP-адреса", "IP addresses"),
    "media_type": ("Түрі", "Тип", "Media type"),
    "size": ("Көлемі, байт", "Размер, байт", "Size, bytes"),
    "hashes": ("Хэштер", "Хэши", "Hashes"),
    "hashes_only": (
        "Тек хэштер: бұл мазмұн сақталмайды және көрсетілмейді.",
        "Только хэши: это содержимое не хранится и не показывается.",
        "Hashes only: this content is neither kept nor shown.",
    ),
    "screenshot": ("Скриншот", "Скриншот", "Screenshot"),
    "no_screenshot": ("Скриншот жоқ", "Скриншота нет", "No screenshot"),
    "evidence_download": (
        "Алынған мазмұнды жүктеп алу",
        "Скачать полученное содержимое",
        "Download the content as fetched",
    ),
    "page_title": ("Бет тақырыбы", "Заголовок страницы", "Page title"),
    "visible_text": ("Көрінетін мәтін", "Видимый текст", "Visible text"),
    "hash_matches": ("Хэш-базалармен сәйкестік", "Совпадения с базами хэшей", "Hash-bank matches"),
    "none": ("жоқ", "нет", "none"),
    "col_bank": ("Хэш-база", "База хэшей", "Hash bank"),
    "col_signal": ("Белгі", "Признак", "Signal"),
    "col_distance": ("Қашықтық", "Расстояние", "Distance"),
    "verdict": ("Қорытынды", "Вердикт", "Verdict"),
    "confidence": ("Сенімділік", "Уверенность", "Confidence"),
    "scores": ("Санаттар бойынша ұпайлар", "Баллы по категориям", "Scores by category"),
    "rules_fired": ("Іске қосылған ережелер", "Сработавшие правила", "Rules that fired"),
    "col_rule": ("Ереже", "Правило", "Rule"),
    "col_weight": ("Салмағы", "Вес", "Weight"),
    "col_matched": ("Табылғаны", "Найдено", "Matched"),
    "ruleset": ("Ережелер нұсқасы", "Версия правил", "Rule set"),
    "verdict_confirmed": ("Санат расталды", "Категория подтверждена", "Confirmed"),
    "verdict_corrected": ("Санат түзетілді", "Категория исправлена", "Corrected to"),
    "verdict_not_illegal": ("Заңсыз емес", "Не противоправно", "Not illegal"),
    "verdict_needs_review": ("Адам шешеді", "Решает человек", "A person decides"),
    "field_note": ("Ескертпе", "Примечание", "Note"),
    "decide_send": ("Шешімді жіберу", "Отправить решение", "Send the decision"),
    "decision_sent": (
        "Шешім жіберілді ({decision_id}). Санаттау кезеңі істі бірінші шешім бойынша жалғастырады.",
        "Решение отправлено ({decision_id}). Этап категоризации примет первое решение по делу.",
        "Decision sent ({decision_id}). The categorize stage takes the first decision on a case.",
    ),
    "not_in_review": (
        "Бұл іс тексеруді күтіп тұрған жоқ.",
        "Это обращение не ожидает проверки.",
        "This case is not waiting for review.",
    ),
    "not_a_decision": (
        "Шешімді таңдаңыз (ескертпе 5000 таңбадан аспауы керек).",
        "Выберите решение (примечание не длиннее 5000 символов).",
        "Choose a decision (and a note of at most 5,000 characters).",
    ),
    "category_for_correction": (
        "Түзету үшін санатты таңдаңыз.",
        "Для исправления выберите категорию.",
        "Choose the category for a correction.",
    ),
    "category_only_corrected": (
        "Санат тек түзету кезінде ескеріледі.",
        "Категория учитывается только при исправлении.",
        "The category counts only with a correction.",
    ),
    "back_to_queue": ("Кезекке оралу", "Вернуться к очереди", "Back to the queue"),
    # Appeal decisions.
    "appeal_decide_title": ("Шағым {appeal_id}", "Жалоба {appeal_id}", "Appeal {appeal_id}"),
    "outcome_upheld": ("Шектеу қалсын", "Оставить ограничение", "Uphold the restriction"),
    "outcome_lifted": ("Шектеу алынсын", "Снять ограничение", "Lift the restriction"),
    "field_reason": ("Себебі", "Причина", "Reason"),
    "appeal_decision_sent": (
        "Шағым бойынша шешім жіберілді.",
        "Решение по жалобе отправлено.",
        "The decision on the appeal was sent.",
    ),
    "appeal_not_pending": (
        "Бұл шағым қаралуды күтіп тұрған жоқ.",
        "Эта жалоба не ожидает рассмотрения.",
        "This appeal is not waiting for a decision.",
    ),
    # Notice-and-takedown times.
    "ntd_title": (
        "Хабарламадан жоюға дейінгі мерзімдер",
        "Сроки от сообщения до удаления",
        "Notice-and-takedown times",
    ),
    "ntd_intro": (
        "Хабарламадан әр қадамға дейінгі медиана және 90-процентиль, секундпен; жақшада — "
        "сол қадамға жеткен істер саны.",
        "Медиана и 90-й процентиль от сообщения до каждого шага, в секундах; в скобках — "
        "сколько дел дошло до шага.",
        "Median and 90th percentile from the report to each step, in seconds; in brackets, "
        "how many cases reached the step.",
    ),
    "ntd_since": ("Бастап", "Начиная с", "Since"),
    "ntd_show": ("Көрсету", "Показать", "Show"),
    "col_median": ("медиана", "медиана", "median"),
    "col_p90": ("90-процентиль", "90-й процентиль", "90th percentile"),
    "col_to_verification": ("Тексеруге дейін", "До проверки", "To verification"),
    "col_to_dispatch": ("Жіберуге дейін", "До отправки", "To dispatch"),
    "col_to_delivery": ("Жеткізуге дейін", "До доставки", "To delivery"),
    "col_to_confirmation": ("Растауға дейін", "До подтверждения", "To confirmation"),
    "all_categories": ("барлық санаттар", "все категории", "all categories"),
    # The operations dashboard.
    "nav_dashboard": ("Бақылау тақтасы", "Панель мониторинга", "Dashboard"),
    "dash_title": ("Кезеңдердің кешігуі", "Отставание этапов", "Stage lag"),
    "dash_intro": (
        "Әр кезеңнің тұтынушылар тобы: өңделмеген хабарламалар, ең ескісінің жасы, жылдамдық "
        "және жұмысшылар. Бет өздігінен жаңарады.",
        "Группа потребителей каждого этапа: необработанные сообщения, возраст самого старого, "
        "скорость и число обработчиков. Страница обновляется сама.",
        "Each stage's consumer group: messages not yet processed, the age of the oldest, the "
        "rate and the workers. The page refreshes itself.",
    ),
    "dash_pipeline": ("Кезеңдер", "Этапы", "The stages"),
    "dash_services": ("Қосалқы қызметтер", "Вспомогательные службы", "Side services"),
    "dash_lag": ("кешігу", "отставание", "lag"),
    "dash_lag_seconds": ("кешігу, с", "отставание, с", "lag, s"),
    "dash_rate": ("жылдамдық, /с", "скорость, /с", "rate, /s"),
    "dash_workers": ("жұмысшылар", "обработчики", "workers"),
    "dash_queues": ("Кезектер", "Очереди", "Queues"),
    "dash_review_waiting": (
        "Талдаушыны күтетін істер",
        "Дела, ждущие аналитика",
        "Cases waiting for an analyst",
    ),
    "dash_review_oldest": ("ең ескісі", "самое старое", "the oldest"),
    "dash_overdue": (
        "Мерзімі өткен хабарламалар",
        "Просроченные уведомления",
        "Notices past their deadline",
    ),
    "dash_dead_letters": ("Өңделмеген хабарламалар (DLQ)", "Мёртвые письма (DLQ)", "Dead letters"),
    "dash_chart_lag": ("Кешігу уақыт бойынша", "Отставание во времени", "Lag over time"),
    "dash_chart_lag_seconds": (
        "Кешігу секундпен, уақыт бойынша",
        "Отставание в секундах, во времени",
        "Lag in seconds over time",
    ),
    "dash_as_of": ("Мониторинг деректері", "Данные монитора на", "The monitor's round of"),
    "dash_no_monitor": (
        "Кешігу мониторы әлі ештеңе жарияламады: `hotline monitor` іске қосылған ба?",
        "Монитор отставания ещё ничего не опубликовал: запущен ли `hotline monitor`?",
        "The lag monitor has published nothing yet: is `hotline monitor` running?",
    ),
    "dash_stale": (
        "Мониторинг деректері ескірген: монитор жұмыс істемей тұрған болуы мүмкін.",
        "Данные монитора устарели: возможно, монитор не работает.",
        "The monitor's figures are old: it may not be running.",
    ),
}

_CATEGORIES: dict[Category, tuple[str, str, str]] = {
    Category.terrorism: ("Терроризм", "Терроризм", "Terrorism"),
    Category.extremism: ("Экстремизм", "Экстремизм", "Extremism"),
    Category.hate: (
        "Ұлттық, діни араздықты қоздыру",
        "Разжигание национальной, религиозной розни",
        "Incitement to hatred",
    ),
    Category.csam: (
        "Балаларды жыныстық қанау материалдары",
        "Материалы сексуального насилия над детьми",
        "Child sexual abuse material",
    ),
    Category.grooming: (
        "Балаларды азғыру (груминг)",
        "Склонение детей (груминг)",
        "Grooming of children",
    ),
    Category.drugs: (
        "Есірткіні насихаттау және сату",
        "Пропаганда и продажа наркотиков",
        "Drugs: promotion and sale",
    ),
    Category.violence: ("Зорлық-зомбылық пен қатыгездік", "Насилие и жестокость", "Violence"),
    Category.suicide: ("Суицидке итермелеу", "Склонение к суициду", "Incitement to suicide"),
    Category.cyberbullying: ("Кибербуллинг", "Кибербуллинг", "Cyberbullying"),
    Category.intimate_images: (
        "Келісімсіз таратылған интим суреттер",
        "Интимные изображения без согласия",
        "Intimate images shared without consent",
    ),
    Category.sects: ("Деструктивті діни ағымдар", "Деструктивные культы", "Destructive cults"),
    Category.gambling: ("Заңсыз құмар ойындар", "Незаконные азартные игры", "Illegal gambling"),
    Category.financial_pyramid: ("Қаржы пирамидасы", "Финансовая пирамида", "Financial pyramid"),
    Category.other: ("Басқа", "Другое", "Other"),
}

_INDEX: dict[Language, int] = {"kk": 0, "ru": 1, "en": 2}


def text_keys() -> list[str]:
    return list(_TEXTS)


def text(language: Language, key: str, **values: object) -> str:
    """The text `key` in `language`, its `{name}` places filled from `values`."""
    found = _TEXTS[key][_INDEX[language]]
    return found.format(**values) if values else found


def category_label(language: Language, category: Category | str) -> str:
    """A category's name for a person; an unknown value is shown as it is."""
    try:
        return _CATEGORIES[Category(category)][_INDEX[language]]
    except ValueError:
        return str(category)


def known(key: str) -> bool:
    return key in _TEXTS


class Texts:
    """What a template calls: `t("key")`, `t.category(c)`, `t.code("prefix", code)`."""

    def __init__(self, language: Language) -> None:
        self.language = language

    def __call__(self, key: str, **values: object) -> str:
        return text(self.language, key, **values)

    def category(self, category: Category | str) -> str:
        return category_label(self.language, category)

    def code(self, prefix: str, code: str | None) -> str:
        """A machine code's words (`public_checking`), or the code itself when it has none."""
        if code is None:
            return ""
        key = f"{prefix}_{code}"
        return self(key) if known(key) else code


def _language(tag: str) -> Language | None:
    primary = tag.strip().lower().split("-", 1)[0].split("_", 1)[0]
    for language in LANGUAGES:
        if primary == language:
            return language
    return None


def pick_language(asked: str | None, accept_language: str | None) -> Language:
    """`?lang=` when it names one of ours, else the best of Accept-Language, else Kazakh."""
    if asked and (chosen := _language(asked)):
        return chosen
    offers: list[tuple[float, int, Language]] = []
    for place, part in enumerate((accept_language or "").split(",")):
        tag, _, parameters = part.partition(";")
        weight = 1.0
        for parameter in parameters.split(";"):
            name, _, value = parameter.strip().partition("=")
            if name == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        language = _language(tag)
        if language is not None and weight > 0:
            offers.append((-weight, place, language))
    return min(offers)[2] if offers else DEFAULT_LANGUAGE
