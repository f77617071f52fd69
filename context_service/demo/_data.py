"""Hand-made word lists for the demo population: names, places, companies, products, tickets.

Everything here is fictional. Phone numbers live in ``_phones``; the lists below only carry
names and places. Names are written as people write them (accents included); ``_util.fold``
derives the unaccented spelling that some systems end up storing.
"""

from __future__ import annotations

from context_service.demo._util import words as _words

FIRST_NAMES: tuple[str, ...] = _words(
    """
    James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara
    Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy
    Matthew Betty Anthony Sandra Mark Ashley Donald Kimberly Steven Emily Paul Donna Andrew
    Michelle Joshua Carol Kenneth Amanda Kevin Melissa Brian Deborah George Stephanie
    Timothy Rebecca Ronald Laura Jason Helen Edward Sharon Jeffrey Cynthia Ryan Kathleen
    Jacob Amy Gary Angela Nicholas Shirley Eric Anna Jonathan Brenda Stephen Pamela Larry
    Emma Justin Nicole Scott Samantha Brandon Katherine Benjamin Christine Samuel Rachel
    Gregory Catherine Alexander Carolyn Frank Janet Patrick Maria Raymond Olivia Jack
    Heather Dennis Diane Jerry Julie Tyler Joyce Aaron Victoria Henry Kelly Adam Lauren
    Nathan Christina Zachary Joan Kyle Evelyn Noah Judith Ethan Megan Jeremy Andrea Walter
    Cheryl Christian Hannah Keith Jacqueline Roger Martha Terry Gloria Sean Teresa Gerald
    Sara Carl Madison Harold Frances Dylan Kathryn Arthur Janice Lawrence Jean Jordan
    Abigail Jesse Alice Bryan Julia Billy Judy Bruce Sophia Gabriel Grace Logan Denise Alan
    Amber Juan Doris Wayne Marilyn Elijah Danielle Randy Beverly Roy Isabella Vincent
    Theresa Ralph Diana Eugene Natalie Russell Brittany Bobby Charlotte Mason Marie Philip
    Kayla Louis Alexis Oliver Lori Harry Freya Amelia Isla Ava Mia Poppy Ella Lily Jude Arlo
    Theo Leo Archie Alfie Oscar Rory Finn Zoë Chloé Renée Noémie Léa Hélène Élodie Amélie
    Céline Inès Margaux Camille Louise François Jérôme Étienne Théo Raphaël Clément Benoît
    Gaël Loïc Maël Anaïs Zoé Maëlle José Tomás Jesús Ángel Sebastián Martín Joaquín Andrés
    Nicolás Ramón Rubén Adrián Iván Lucía María Sofía Valentina Martina Camila Daniela
    Mónica Verónica Inés Begoña Ximena João Gonçalo Luís Conceição Joana Beatriz Leonor
    Mariana Catarina Tiago Rui Duarte Björn Søren Åsa Jörg Jürgen Jonas Lukas Felix Moritz
    Paul Anja Katrin Jana Lena Greta Łukasz Wojciech Zofia Małgorzata Agnieszka Piotr Tomasz
    Katarzyna Michał Paweł Giulia Francesca Chiara Alessandro Lorenzo Matteo Giuseppe
    Niccolò Federica Sara Aisha Fatima Omar Yusuf Layla Karim Samir Nadia Hana Tariq Zainab
    Amira Youssef Salma Priya Arjun Ananya Rohan Aditya Kavya Vikram Deepika Rahul Sanjay
    Neha Ishaan Meera Anjali Rajesh Sunita Kiran Arun Lakshmi Divya Nikhil Pooja Varun
    Shreya Aarav Diya Wei Li Jing Hao Ming Xiaoling Yan Jun Mei Lin Chen Hui Fang Qiang Yun
    Zhen Hiroshi Yuki Haruto Sakura Kenji Aiko Ren Hina Takeshi Emi Sora Daiki Naoko Yuto
    Min-jun Seo-yeon Ji-ho Ha-eun Jae-won Soo-ah Hyun-woo Ji-woo Dong-hyun Eun-ji Minh Linh
    Anh Tuan Thao Huong Quang Nguyet Bao Khanh Chinedu Ngozi Oluwaseun Adaeze Kwame Ama Kofi
    Abena Thabo Lerato Sipho Zanele Amara Tendai Wanjiru Kamau Njeri Chidi Folake Emeka Yaw
    Efua Siobhán Aoife Niamh Ciarán Seán Oisín Róisín Pádraig Eoin Caoimhe Dmitri Olga Ivan
    Natasha Sergei Anastasia Mikhail Irina Alexei Yelena Mehmet Elif Emre Zeynep Ayşe Burak
    Selin Oğuz Çağla Gökhan
    """
)

LAST_NAMES: tuple[str, ...] = _words(
    """
    Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore
    Jackson White Harris Thompson Clark Lewis Robinson Walker Young Allen King Wright Scott
    Hill Green Adams Baker Nelson Carter Mitchell Roberts Turner Phillips Campbell Parker
    Evans Edwards Collins Stewart Morris Rogers Reed Cook Morgan Bell Cooper Richardson Cox
    Howard Ward Peterson Gray Watson Brooks Bennett Wood Barnes Ross Henderson Coleman
    Jenkins Perry Powell Long Patterson Hughes Washington Butler Simmons Foster Bryant
    Alexander Russell Griffin Hayes Myers Ford Hamilton Graham Sullivan Wallace Woods Cole
    West Owens Reynolds Fisher Ellis Harrison Gibson Marshall Murray Freeman Wells Webb
    Simpson Stevens Tucker Porter Hunter Hicks Crawford Henry Boyd Mason Kennedy Warren
    Dixon Burns Gordon Shaw Holmes Rice Hunt Black Daniels Palmer Mills Grant Knight
    Ferguson Stone Hawkins Dunn Perkins Hudson Spencer Gardner Payne Pierce Berry Matthews
    Arnold Willis Watkins Olson Carroll Duncan Snyder Hart Cunningham Bradley Lane Andrews
    Harper Fox Riley Armstrong Carpenter Weaver Greene Lawrence Elliott Sims Austin Peters
    García Martínez Rodríguez López González Hernández Pérez Sánchez Ramírez Torres Flores
    Rivera Gómez Díaz Reyes Morales Cruz Ortiz Gutiérrez Chávez Ramos Ruiz Álvarez Jiménez
    Fernández Moreno Muñoz Romero Navarro Domínguez Vázquez Castillo Peña Núñez Ibáñez
    Méndez Rubio Márquez Sáez Medina Herrera Aguilar Vargas Castro Ortega Delgado Silva
    Santos Oliveira Souza Costa Pereira Carvalho Almeida Ferreira Ribeiro Gonçalves Araújo
    Lima Barbosa Rocha Dias Teixeira Cardoso Correia Magalhães Simões Conceição Müller
    Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch Schäfer Bauer
    Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Krüger Hofmann Dubois Martin
    Bernard Lefèvre Moreau Laurent Girard Bonnet Dupont Lambert Fontaine Rousseau Chevalier
    Mercier Gauthier Lefebvre Faure André Mathieu Clément Hébert Rossi Russo Ferrari
    Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti De Luca Mancini
    Costa Giordano Rizzo Lombardi Moretti Barbieri Fontana Nowak Kowalski Wiśniewski Wójcik
    Kamiński Lewandowski Zieliński Szymański Dąbrowski Andersson Johansson Karlsson Nilsson
    Eriksson Larsson Olsson Persson Svensson Lindqvist Hansen Nielsen Jensen Pedersen
    Sørensen Rasmussen Jørgensen Christensen Larsen Møller Jansen Bakker Visser Smit Meijer
    Mulder Bos Vos Dekker Brouwer O'Brien O'Connor O'Sullivan Murphy Kelly Walsh McCarthy
    Byrne Ryan Doyle Brennan MacDonald MacLeod Campbell Stewart Robertson Fraser McKenzie
    Ross Reid Patel Sharma Singh Gupta Kumar Reddy Iyer Nair Rao Shah Mehta Das Bose Joshi
    Menon Chatterjee Banerjee Pillai Desai Kapoor Malhotra Verma Agarwal Chopra Kulkarni
    Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo Lin He Luo Tang Sato
    Suzuki Takahashi Tanaka Watanabe Ito Yamamoto Nakamura Kobayashi Kato Yoshida Kim Park
    Choi Jung Kang Cho Yoon Jang Lim Han Shin Oh Seo Kwon Hwang Nguyen Tran Le Pham Hoang
    Phan Vu Vo Dang Bui Do Ho Ngo Duong Ly Okafor Adeyemi Mensah Osei Nkosi Mwangi Kamau
    Abebe Okonkwo Eze Balogun Asante Boateng Dlamini Ndlovu Mokoena Otieno Achieng Tesfaye
    Bekele Diallo Traoré Keita Haddad Khalil Nasser Hassan Rahman Ali Hussein Mansour Saleh
    Farah Aziz Karimi Yılmaz Kaya Demir Şahin Çelik Yıldız Öztürk Aydın Arslan Doğan Ivanov
    Petrov Smirnov Volkov Sokolov Popov Lebedev Kozlov Novikov Morozov Cohen Levi Mizrahi
    Friedman Katz Goldberg Shapiro Klein Rosen Weiss
    """  # noqa: RUF001 (the Turkish dotless i is meant)
)

# "De Luca" is two tokens in the list above; join the known two-word surnames back up.
_TWO_WORD = {"De": "Luca"}


def _join_two_word(names: tuple[str, ...]) -> tuple[str, ...]:
    joined: list[str] = []
    skip = False
    for index, name in enumerate(names):
        if skip:
            skip = False
            continue
        following = names[index + 1] if index + 1 < len(names) else None
        if following is not None and _TWO_WORD.get(name) == following:
            joined.append(f"{name} {following}")
            skip = True
        else:
            joined.append(name)
    return tuple(dict.fromkeys(joined))


LAST_NAMES = _join_two_word(LAST_NAMES)

STREET_NAMES: tuple[str, ...] = _words(
    """
    Oak Maple Cedar Pine Elm Walnut Chestnut Willow Birch Spruce Magnolia Juniper Aspen Main
    Park Lake Hill River Spring Sunset Highland Meadow Forest Valley Ridge Harbor Washington
    Lincoln Jefferson Franklin Madison Adams Jackson Monroe Grant Hamilton Church Mill
    School Market Bridge Station Union Center Liberty Prospect Summit Orchard Cherry Laurel
    Sycamore Hickory Dogwood Poplar Cypress Hawthorn Linden Alder
    """
)
US_STREET_SUFFIXES = ("St", "Ave", "Rd", "Blvd", "Ln", "Dr", "Ct", "Way", "Pl", "Ter")
UK_STREET_SUFFIXES = ("Street", "Road", "Lane", "Avenue", "Close", "Gardens", "Terrace", "Row")
DE_STREETS = (
    "Hauptstraße", "Schillerstraße", "Goethestraße", "Bahnhofstraße", "Gartenweg",
    "Lindenallee", "Bergstraße", "Friedrichstraße", "Mühlenweg", "Schulstraße",
)  # fmt: skip
UNITS = ("Apt 2", "Apt 4B", "Unit 12", "Suite 300", "Apt 7", "Floor 3", "#210", "Apt 1A")

# (city, province, province_code, zip prefix)
US_CITIES: tuple[tuple[str, str, str, str], ...] = (
    ("New York", "New York", "NY", "100"), ("Brooklyn", "New York", "NY", "112"),
    ("Los Angeles", "California", "CA", "900"), ("San Diego", "California", "CA", "921"),
    ("Oakland", "California", "CA", "946"), ("Sacramento", "California", "CA", "958"),
    ("Chicago", "Illinois", "IL", "606"), ("Houston", "Texas", "TX", "770"),
    ("Austin", "Texas", "TX", "787"), ("Dallas", "Texas", "TX", "752"),
    ("Phoenix", "Arizona", "AZ", "850"), ("Philadelphia", "Pennsylvania", "PA", "191"),
    ("Pittsburgh", "Pennsylvania", "PA", "152"), ("Denver", "Colorado", "CO", "802"),
    ("Boulder", "Colorado", "CO", "803"), ("Portland", "Oregon", "OR", "972"),
    ("Minneapolis", "Minnesota", "MN", "554"), ("Atlanta", "Georgia", "GA", "303"),
    ("Nashville", "Tennessee", "TN", "372"), ("Charlotte", "North Carolina", "NC", "282"),
    ("Raleigh", "North Carolina", "NC", "276"), ("Columbus", "Ohio", "OH", "432"),
    ("Cleveland", "Ohio", "OH", "441"), ("Detroit", "Michigan", "MI", "482"),
    ("Madison", "Wisconsin", "WI", "537"), ("Salt Lake City", "Utah", "UT", "841"),
    ("Las Vegas", "Nevada", "NV", "891"), ("Albuquerque", "New Mexico", "NM", "871"),
    ("Kansas City", "Missouri", "MO", "641"), ("St. Louis", "Missouri", "MO", "631"),
    ("New Orleans", "Louisiana", "LA", "701"), ("Tampa", "Florida", "FL", "336"),
    ("Orlando", "Florida", "FL", "328"), ("Baltimore", "Maryland", "MD", "212"),
    ("Richmond", "Virginia", "VA", "232"), ("Providence", "Rhode Island", "RI", "029"),
    ("Burlington", "Vermont", "VT", "054"), ("Anchorage", "Alaska", "AK", "995"),
    ("Honolulu", "Hawaii", "HI", "968"), ("Boise", "Idaho", "ID", "837"),
)  # fmt: skip
CA_CITIES = (
    ("Toronto", "Ontario", "ON", "M5V"), ("Ottawa", "Ontario", "ON", "K1P"),
    ("Vancouver", "British Columbia", "BC", "V6B"), ("Montréal", "Quebec", "QC", "H2X"),
    ("Calgary", "Alberta", "AB", "T2P"), ("Halifax", "Nova Scotia", "NS", "B3H"),
)  # fmt: skip
GB_CITIES = (
    ("London", "SW11"), ("London", "N1"), ("London", "E8"), ("London", "SE15"),
    ("Manchester", "M14"), ("Leeds", "LS6"), ("Bristol", "BS6"), ("Edinburgh", "EH9"),
    ("Glasgow", "G12"), ("Cardiff", "CF24"), ("Brighton", "BN1"), ("Sheffield", "S10"),
)  # fmt: skip
AU_CITIES = (
    ("Sydney", "New South Wales", "NSW", "20"), ("Melbourne", "Victoria", "VIC", "30"),
    ("Brisbane", "Queensland", "QLD", "40"), ("Perth", "Western Australia", "WA", "60"),
)  # fmt: skip
DE_CITIES = (("Berlin", "10"), ("München", "80"), ("Hamburg", "20"), ("Köln", "50"))

COMPANY_WORDS_A = _words(
    """
    Blue Northern Silver Bright Granite Harbor Cedar Summit Copper Maple Lantern Prairie
    Coastal Evergreen Ironwood Redwood Golden Riverbend Oakridge Westfield Clearwater
    Brightside Stonegate Pinecrest Sunrise Highland Meadowlark Bluebird Foxglove Kestrel
    """
)
COMPANY_WORDS_B = _words(
    """
    Studio Labs Design Works Partners Collective Bakery Dental Architects Analytics Media
    Logistics Outfitters Consulting Coffee Books Fitness Veterinary Florals Robotics Legal
    """
)
INDUSTRIES = (
    "COMPUTER_SOFTWARE", "RETAIL", "DESIGN", "HOSPITAL_HEALTH_CARE", "ARCHITECTURE_PLANNING",
    "MARKETING_AND_ADVERTISING", "LOGISTICS_AND_SUPPLY_CHAIN", "FOOD_BEVERAGES",
    "MANAGEMENT_CONSULTING", "LEGAL_SERVICES", "VETERINARY", "CONSUMER_GOODS",
)  # fmt: skip
PERSONAL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com")

# The business whose systems these are: a smart-lighting shop with an app subscription.
STORE_DOMAIN = "lumenlabs.example"
ZENDESK_SUBDOMAIN = "lumenlabs"

# (title, sku, price)
PRODUCTS: tuple[tuple[str, str, str], ...] = (
    ("Lumen Desk Lamp", "LUM-DESK-01", "89.00"), ("Lumen Floor Lamp", "LUM-FLOOR-01", "149.00"),
    ("Smart Bulb E26 (4-pack)", "BULB-E26-4", "59.00"), ("Smart Bulb GU10", "BULB-GU10-1", "19.00"),
    ("Lumen Hub v2", "HUB-V2", "99.00"), ("Motion Sensor", "SENS-MOTION", "29.00"),
    ("Smart Plug Mini", "PLUG-MINI", "24.00"), ("Light Strip 2m", "STRIP-2M", "45.00"),
    ("Light Strip Extension 1m", "STRIP-EXT-1M", "22.00"),
    ("Wall Dimmer Switch", "DIM-WALL", "39.00"),
    ("Replacement Linen Shade", "SHADE-LINEN", "35.00"), ("Wall Mount Kit", "MOUNT-WALL", "15.00"),
    ("USB-C Power Adapter", "PWR-USBC-30W", "25.00"), ("Gift Card", "GIFT-50", "50.00"),
)  # fmt: skip

# (nickname, monthly amount in cents)
PLANS: tuple[tuple[str, int], ...] = (("Starter", 1900), ("Pro", 4900), ("Team", 9900))

# (subject, first comment, tags)
TICKETS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Where is my order?", "Hi, I ordered over a week ago and the tracking hasn't moved. "
     "Can you check where my parcel is?", ("shipping", "wismo")),
    ("Lamp won't connect to Wi-Fi", "The desk lamp blinks blue and never joins my 5 GHz network. "
     "I've reset it twice.", ("setup", "wifi")),
    ("Request a refund", "The light strip arrived but it's the wrong length. I'd like a refund, "
     "please.", ("refund", "returns")),
    ("Change shipping address", "I just placed an order and need it shipped to my office "
     "instead. Is it too late?", ("shipping", "address_change")),
    ("Cancel my subscription", "Please cancel my plan at the end of this billing period.",
     ("billing", "cancellation")),
    ("Card declined but I was charged", "My card was declined in the app but my bank shows a "
     "pending charge. What's going on?", ("billing", "payment_failed")),
    ("Missing item in package", "My box came without the wall mount kit that was on the "
     "packing slip.", ("shipping", "missing_item")),
    ("Damaged on arrival", "The shade was crushed in transit, photos attached.",
     ("returns", "damaged")),
    ("How do I upgrade to Team?", "We're five people now. How do we move to the Team plan and "
     "keep our scenes?", ("billing", "upgrade")),
    ("App keeps logging me out", "Since the last update the app signs me out every time I "
     "close it.", ("app", "bug")),
    ("Invoice with company details", "Could you reissue my last invoice with our company name "
     "and VAT number?", ("billing", "invoice")),
    ("Motion sensor not detecting", "The sensor only triggers when I'm right in front of it.",
     ("hardware", "sensor")),
)  # fmt: skip
AGENT_REPLIES = (
    "Thanks for reaching out! I've looked into this and will update you shortly.",
    "Sorry about the trouble. Could you send us your order number and a photo?",
    "I've sent a replacement today; you'll get tracking by email within 24 hours.",
    "Done: your refund has been issued and should show in 5-10 business days.",
    "Could you try a factory reset (hold the button 10 seconds) and let me know?",
)
INTERNAL_NOTES = (
    "Checked Stripe: payment retried automatically. Waiting on customer.",
    "Escalated to hardware team, possible batch issue.",
    "Customer is on the Pro plan; eligible for expedited replacement.",
)
DEAL_TOPICS = ("Team plan upgrade", "Annual Pro renewal", "Office lighting rollout",
               "Bulk order: 40 desk lamps", "Pilot: smart retail lighting")  # fmt: skip
