"""`sokuresu line setup-richmenu`: the menu, its Pillow image, and the SDK calls against the fake LINE API."""
import io

from click.testing import CliRunner
from PIL import Image

from bot.channels.line.richmenu import HEIGHT, WIDTH, image, menu
from bot.cli import main
from bot.core.settings import load_settings


def run(monkeypatch, fake_line, tmp_path, *args):
    for name, value in {"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": fake_line.token,
                        "LINE_API_BASE_URL": fake_line.origin, "SOKURESU_INSTANCE": str(tmp_path),
                        "SECRET_KEY": "test-secret-key-0123456789abcdef",
                        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no .env from the project directory
    return CliRunner().invoke(main, ["line", "setup-richmenu", *args])


def test_menu_has_four_areas_covering_the_image_with_the_settings_video():
    settings = load_settings()
    m = menu(settings)
    assert m["size"] == {"width": WIDTH, "height": HEIGHT} and len(m["chatBarText"]) <= 14
    assert sum(a["bounds"]["width"] for a in m["areas"]) == WIDTH
    actions = [a["action"] for a in m["areas"]]
    assert [a.get("data") for a in actions] == ["book", "reschedule", None, "menu:human"]
    assert actions[2] == {"type": "uri", "label": "会社の動画", "uri": "https://video.example.com/soyokaze-day"}
    assert all(len(a["label"]) <= 20 for a in actions)


def test_image_is_a_png_of_the_menu_size_under_a_megabyte():
    data = image(load_settings())
    picture = Image.open(io.BytesIO(data))
    assert picture.format == "PNG" and picture.size == (WIDTH, HEIGHT) and len(data) < 1024 * 1024


def test_setup_richmenu_creates_uploads_and_sets_the_default(monkeypatch, fake_line, tmp_path):
    result = run(monkeypatch, fake_line, tmp_path, "--save-image", str(tmp_path / "menu.png"))
    assert result.exit_code == 0, result.output
    [menu_id] = fake_line.rich_menus
    assert fake_line.default_menu == menu_id and menu_id in result.output
    assert fake_line.images[menu_id] == (tmp_path / "menu.png").read_bytes()
    upload = fake_line.calls("/content")[0]
    assert (upload.headers["content-type"] == "image/png"
            and upload.headers["authorization"] == f"Bearer {fake_line.token}")

    again = run(monkeypatch, fake_line, tmp_path)  # running it again replaces our own menu, not piles them up
    assert again.exit_code == 0, again.output
    assert list(fake_line.rich_menus) == [fake_line.default_menu] and fake_line.default_menu != menu_id


def test_setup_richmenu_explains_what_is_missing(monkeypatch, fake_line, tmp_path):
    monkeypatch.setenv("LINE_CHANNEL_ACCESS_TOKEN", "")
    monkeypatch.setenv("LINE_CHANNEL_SECRET", "")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOKURESU_INSTANCE", str(tmp_path))
    result = CliRunner().invoke(main, ["line", "setup-richmenu"])
    assert result.exit_code != 0 and "LINE_CHANNEL_SECRET" in result.output


def test_setup_richmenu_reports_lines_refusal(monkeypatch, fake_line, tmp_path):
    fake_line.fail("/v2/bot/richmenu", 400, "A message (messages[0]) in the request body is invalid")
    result = run(monkeypatch, fake_line, tmp_path)
    assert result.exit_code != 0 and "LINE refused the rich menu: LINE 400" in result.output
